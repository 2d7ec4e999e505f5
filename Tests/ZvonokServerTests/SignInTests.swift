import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PostgresNIO
import Testing
import WSCore
import ZvonokCore
import ZvonokServer
import ZvonokStorage

/// Sign-in through an OpenID Connect provider (issue 22), against `TestProvider` over real HTTP on 127.0.0.1: linking
/// by invite code and by a verified e-mail address, refusal of the unlisted, single-use `state`, the ID token's checks,
/// key rotation, unlinking and back-channel logout.
@Suite struct SignInTests {
    /// Follows no redirect: the provider's answer to the authorization request is what the test reads.
    static let browser = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(redirectConfiguration: .disallow))

    /// What the provider sent the browser back with.
    struct Callback {
        let code: String
        let state: String
    }

    /// Starts a sign-in and lets `subject` log in at the provider; returns the redirect's code and state.
    static func visitProvider(_ api: APIClient, as subject: String) async throws -> Callback {
        let start = try await expect(api.post("/v1/oidc/start", token: nil), .ok)
        let callback = try await visitProvider(try #require(start.string("authorizationUrl")), as: subject)
        #expect(callback.state == start.string("state"))
        return callback
    }

    /// Lets `subject` log in at the provider's authorization URL; returns the redirect's code and state.
    static func visitProvider(_ url: String, as subject: String) async throws -> Callback {
        let response = try await browser.execute(HTTPClientRequest(url: url + "&test_user=" + subject), timeout: .seconds(10))
        let location = try #require(response.headers.first(name: "Location"), "the provider did not redirect: \(response.status)")
        #expect(location.hasPrefix(TestProvider.redirectURI + "?"))
        let query = FormEncoding.decode(String(location.split(separator: "?", maxSplits: 1)[1]))
        return Callback(code: try #require(query["code"]), state: try #require(query["state"]))
    }

    /// Ends a sign-in as the web client does after the redirect.
    static func finish(_ api: APIClient, _ callback: Callback, inviteCode: String? = nil) async throws -> Answer {
        var body = ["code": callback.code, "state": callback.state]
        body["inviteCode"] = inviteCode
        return try await api.post("/v1/oidc/finish", token: nil, body)
    }

    /// A whole sign-in of `subject`.
    static func signIn(_ api: APIClient, as subject: String, inviteCode: String? = nil) async throws -> Answer {
        try await finish(api, visitProvider(api, as: subject), inviteCode: inviteCode)
    }

    /// Runs `body` with a provider and a server configured for it.
    static func withSignIn(_ body: @Sendable @escaping (APIClient, TestProvider, SchoolFixture) async throws -> Void) async throws {
        try await withTestProvider { provider in
            let oidc = await provider.configuration
            try await withTestServer(configure: { $0.oidc = oidc }) { api in
                try await body(api, provider, try await SchoolFixture.build(api))
            }
        }
    }

    /// A new student of 5А, not yet registered: their id and invite code.
    static func newStudent(_ api: APIClient, _ school: SchoolFixture) async throws -> (id: String, inviteCode: String) {
        let created = try await expect(
            api.post("/v1/classes/\(school.id("class5"))/students", token: school.token("schoolAdmin"), ["name": "Новенький"]), .created)
        return (try #require(created.string("id")), try #require(created.string("inviteCode")))
    }

    @Test func anInviteCodeTypedOnceLinksTheAccountForGood() async throws {
        try await Self.withSignIn { api, provider, school in
            await provider.add(.init(subject: "esia-100"))
            let student = try await Self.newStudent(api, school)
            let first = try await expect(Self.signIn(api, as: "esia-100", inviteCode: student.inviteCode), .ok)
            #expect(first.string("userId") == student.id)
            #expect(first.string("expiresAt") != nil)
            let token = try #require(first.string("token"))
            #expect(try await api.get("/v1/me", token: token).string("id") == student.id)

            // The next sign-in needs no code, and the code is spent.
            let second = try await expect(Self.signIn(api, as: "esia-100"), .ok)
            #expect(second.string("userId") == student.id)
            #expect(second.string("token") != token)
            #expect(try await api.post("/v1/invites/\(student.inviteCode)/activate", token: nil).status == .notFound)

            let identity = try await expect(api.get("/v1/people/\(student.id)/identity", token: school.token("schoolAdmin")), .ok)
            #expect(identity["linked"] as? Bool == true)
            #expect((identity["links"] as? [[String: Any]])?.first?["linkedBy"] as? String == "invite")
            #expect(try await api.get("/v1/people/\(student.id)/identity", token: school.token("teacher5")).status == .forbidden)
            let audit = try await api.get("/v1/audit?action=identity.link", token: school.token("schoolAdmin"))
            #expect(audit.items.map { $0["object"] as? String } == [student.id])
        }
    }

    @Test func aGuardianLinkedByAVerifiedAddressFromTheRosterReachesBothChildren() async throws {
        try await Self.withSignIn { api, provider, school in
            var roster = RosterUploadTests.roster
            roster["guardians"] = [["externalId": "G1", "name": "Петрова Анна", "students": ["S1", "S2"], "email": "Anna.Petrova@Example.ru"]]
            let path = "/v1/schools/\(school.id("school"))/roster"
            let upload = try await expect(api.call(.put, path, token: school.token("schoolAdmin"), json: roster), .ok)
            let invites = try #require(upload["invites"] as? [[String: Any]])
            let guardian = try #require(invites.first { $0["externalId"] as? String == "G1" }?["id"] as? String)
            // A roster that states no address leaves the one stated before.
            let again = try await expect(api.call(.put, path, token: school.token("schoolAdmin"), json: RosterUploadTests.roster), .ok)
            #expect(again["updated"] as? Int == 0)

            // The same address, not verified by the provider, links nothing.
            await provider.add(.init(subject: "esia-unverified", email: "anna.petrova@example.ru", emailVerified: false))
            #expect(try await Self.signIn(api, as: "esia-unverified").errorCode == "not_listed")

            await provider.add(.init(subject: "esia-anna", email: "anna.petrova@example.ru", emailVerified: true))
            let signedIn = try await expect(Self.signIn(api, as: "esia-anna"), .ok)
            #expect(signedIn.string("userId") == guardian)
            let token = try #require(signedIn.string("token"))
            let chats = try await api.get("/v1/me/chats", token: token)
            #expect(chats.items.filter { $0["kind"] as? String == "class_parents" }.count == 2)
            let identity = try await api.get("/v1/people/\(guardian)/identity", token: school.token("schoolAdmin"))
            #expect((identity["links"] as? [[String: Any]])?.first?["linkedBy"] as? String == "email")
            #expect(identity["email"] as? String == "anna.petrova@example.ru")
        }
    }

    @Test func anAdminSetsTheAddressThatLinksAPerson() async throws {
        try await Self.withSignIn { api, provider, school in
            let student = try await Self.newStudent(api, school)
            let path = "/v1/people/\(student.id)/identity"
            #expect(try await api.call(.put, path, token: school.token("schoolAdmin"), json: ["email": "no address"]).status == .badRequest)
            #expect(try await api.call(.put, path, token: school.token("teacher5"), json: ["email": "pupil@example.ru"]).status == .forbidden)
            let set = try await expect(api.call(.put, path, token: school.token("schoolAdmin"), json: ["email": "Pupil@Example.ru"]), .ok)
            #expect(set["email"] as? String == "pupil@example.ru")
            #expect(set["linked"] as? Bool == false)
            await provider.add(.init(subject: "esia-800", email: "pupil@example.ru", emailVerified: true))
            #expect(try await expect(Self.signIn(api, as: "esia-800"), .ok).string("userId") == student.id)
        }
    }

    @Test func someoneTheSchoolDidNotListIsToldSoAndNothingIsCreated() async throws {
        try await Self.withSignIn { api, provider, school in
            await provider.add(.init(subject: "esia-stranger", email: "stranger@example.ru", emailVerified: true))
            let refused = try await expect(Self.signIn(api, as: "esia-stranger"), .forbidden)
            #expect(refused.errorCode == "not_listed")
            let message = try #require((refused["error"] as? [String: Any])?["message"] as? String)
            #expect(message.contains("school has not listed you") && message.contains("invite code"))
            let rows = try await withRunningDatabase(api.databaseURL) { database in
                try await database.query("SELECT (SELECT count(*) FROM linked_identities) + (SELECT count(*) FROM oidc_sessions)").decode(Int.self)
                    .first { _ in true }
            }
            #expect(rows == 0)
            // A wrong invite code is the activation's 404, and links nothing either.
            #expect(try await Self.signIn(api, as: "esia-stranger", inviteCode: "AAAA-BBBB-CCCC").status == .notFound)
        }
    }

    @Test func aStateWorksOnceAndOnlyForItsRedirectURI() async throws {
        try await Self.withSignIn { api, provider, school in
            await provider.add(.init(subject: "esia-200"))
            let student = try await Self.newStudent(api, school)
            let callback = try await Self.visitProvider(api, as: "esia-200")
            try await expect(Self.finish(api, callback, inviteCode: student.inviteCode), .ok)
            let replayed = try await expect(Self.finish(api, callback), .badRequest)
            #expect(replayed.errorCode == "invalid_argument")
            let forged = try await expect(Self.finish(api, Callback(code: callback.code, state: Secret.urlSafe())), .badRequest)
            #expect(forged.errorCode == "invalid_argument")

            let elsewhere = try await api.post("/v1/oidc/start", token: nil, ["redirectUri": TestProvider.redirectURI + "/x"])
            #expect(elsewhere.status == .badRequest)
            #expect(try await api.call(.post, "/v1/oidc/finish", token: nil, json: ["code": 1]).status == .badRequest)
        }
    }

    @Test func idTokensWithAWrongNonceAudienceKeyOrExpiryAreRefused() async throws {
        try await Self.withSignIn { api, provider, school in
            await provider.add(.init(subject: "esia-300"))
            let student = try await Self.newStudent(api, school)
            for fault in [TestProvider.Fault.wrongNonce, .expired, .foreignKey, .wrongAudience] {
                await provider.failNext(fault)
                let refused = try await Self.signIn(api, as: "esia-300", inviteCode: student.inviteCode)
                #expect(refused.status == .unauthorized, "\(fault)")
                #expect(refused.errorCode == "unauthenticated", "\(fault)")
            }
            // None of them used the invite code.
            try await expect(Self.signIn(api, as: "esia-300", inviteCode: student.inviteCode), .ok)
        }
    }

    @Test func aRotatedSigningKeyIsFetchedOnceItSigns() async throws {
        try await Self.withSignIn { api, provider, school in
            await provider.add(.init(subject: "esia-400"))
            let student = try await Self.newStudent(api, school)
            try await expect(Self.signIn(api, as: "esia-400", inviteCode: student.inviteCode), .ok)
            try await expect(Self.signIn(api, as: "esia-400"), .ok)
            #expect(await provider.keyFetches == 1)
            await provider.rotate()
            try await expect(Self.signIn(api, as: "esia-400"), .ok)
            #expect(await provider.keyFetches == 2)
        }
    }

    @Test func backChannelLogoutEndsTheSessionsThatSignInOpened() async throws {
        try await Self.withSignIn { api, provider, school in
            await provider.add(.init(subject: "esia-500"))
            let student = try await Self.newStudent(api, school)
            let token = try #require(try await Self.signIn(api, as: "esia-500", inviteCode: student.inviteCode).string("token"))
            let logout = try await provider.logoutToken(subject: "esia-500", sid: nil)
            let close = try await RevocationTests.close(of: api, token: token) {
                try await expect(Self.postLogout(api, body: FormEncoding.encode([("logout_token", logout)])), .ok)
            }
            #expect(close?.closeCode == RevocationTests.sessionEnded)
            #expect(try await api.get("/v1/me", token: token).status == .unauthorized)
            // The other people's sessions go on.
            #expect(try await api.get("/v1/me", token: school.token("student1")).status == .ok)

            #expect(try await Self.postLogout(api, body: "logout_token=not.a.token").status == .unauthorized)
            #expect(try await Self.postLogout(api, body: "nothing=here").status == .badRequest)
            let namingNobody = try await provider.logoutToken(subject: nil, sid: nil)
            #expect(try await Self.postLogout(api, body: FormEncoding.encode([("logout_token", namingNobody)])).status == .badRequest)
        }
    }

    @Test func anAdminUnlinksAndTheSessionsOfThatSignInEnd() async throws {
        try await Self.withSignIn { api, provider, school in
            await provider.add(.init(subject: "esia-600"))
            let student = try await Self.newStudent(api, school)
            let token = try #require(try await Self.signIn(api, as: "esia-600", inviteCode: student.inviteCode).string("token"))
            let path = "/v1/people/\(student.id)/identity"
            #expect(try await api.call(.delete, path, token: school.token("teacher5")).status == .forbidden)
            try await expect(api.call(.delete, path, token: school.token("schoolAdmin")), .noContent)
            #expect(try await api.call(.delete, path, token: school.token("schoolAdmin")).status == .notFound)
            #expect(try await api.get("/v1/me", token: token).status == .unauthorized)
            #expect(try await Self.signIn(api, as: "esia-600").errorCode == "not_listed")
            let audit = try await api.get("/v1/audit?action=identity.unlink", token: school.token("schoolAdmin"))
            #expect(audit.items.count == 1)
        }
    }

    @Test func withoutAProviderTheRoutesAnswer404() async throws {
        try await withTestServer { api in
            let settings = try await expect(api.get("/v1/oidc", token: nil), .ok)
            #expect(settings["enabled"] as? Bool == false)
            #expect(try await api.post("/v1/oidc/start", token: nil).status == .notFound)
            #expect(try await api.post("/v1/oidc/finish", token: nil, ["code": "c", "state": "s"]).status == .notFound)
        }
    }

    @Test func aServerProcessSigningPeopleInLogsNoCodeTokenOrSecret() async throws {
        try await withTestProvider { provider in
            try await withTestServer { api in
                let school = try await SchoolFixture.build(api)
                let student = try await Self.newStudent(api, school)
                await provider.add(.init(subject: "esia-700"))
                let server = ServerProcess(
                    databaseURL: api.databaseURL.description, port: try freeLoopbackPort(), logLevel: "trace",
                    extraArguments: [
                        "--oidc-issuer", await provider.issuer, "--oidc-client-id", TestProvider.clientID, "--oidc-redirect-uri",
                        TestProvider.redirectURI,
                    ],
                    environment: ["ZVONOK_OIDC_CLIENT_SECRET": TestProvider.clientSecret])
                try await server.start()
                let base = "http://127.0.0.1:\(server.port)"
                let start = try await SecretsTests.json(.POST, "\(base)/v1/oidc/start")
                let url = try #require(start["authorizationUrl"] as? String)
                let callback = try await Self.visitProvider(url, as: "esia-700")
                let nonce = try #require(FormEncoding.decode(String(url.split(separator: "?")[1]))["nonce"])
                var request = HTTPClientRequest(url: "\(base)/v1/oidc/finish")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                let body = ["code": callback.code, "state": callback.state, "inviteCode": student.inviteCode]
                request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
                let answer = try await Self.browser.execute(request, timeout: .seconds(10))
                let finished = try JSONSerialization.jsonObject(with: Data(buffer: try await answer.body.collect(upTo: 1 << 16))) as? [String: Any]
                let token = try #require(finished?["token"] as? String, "\(answer.status)")
                let logout = try await provider.logoutToken(subject: "esia-700", sid: nil)
                var logoutRequest = HTTPClientRequest(url: "\(base)/v1/oidc/backchannel-logout")
                logoutRequest.method = .POST
                logoutRequest.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                logoutRequest.body = .bytes(ByteBuffer(string: FormEncoding.encode([("logout_token", logout)])))
                #expect(try await Self.browser.execute(logoutRequest, timeout: .seconds(10)).status == .ok)
                await server.stop()

                let log = server.log
                #expect(log.contains("Fetched the sign-in provider's keys"), "the log was read")
                let idToken = try #require(await provider.issuedIDTokens.last)
                for (name, secret) in [
                    ("code", callback.code), ("state", callback.state), ("nonce", nonce), ("ID token", idToken), ("Zvonok token", token),
                    ("logout token", logout), ("client secret", TestProvider.clientSecret), ("invite code", student.inviteCode),
                ] {
                    #expect(!log.contains(secret), "the log holds the \(name)")
                }
                let inClear = try await SecretsTests.rowsContaining([callback.state, token, idToken, callback.code], at: api.databaseURL)
                #expect(inClear.isEmpty, "tables holding a secret in clear: \(inClear)")
            }
        }
    }

    static func postLogout(_ api: APIClient, body: String) async throws -> Answer {
        try await api.client.execute(
            uri: "/v1/oidc/backchannel-logout", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: body)
        ) { response in
            let data = Data(buffer: response.body, byteTransferStrategy: .copy)
            return Answer(status: response.status, json: data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data))
        }
    }
}
