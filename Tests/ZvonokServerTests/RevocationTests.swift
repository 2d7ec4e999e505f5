import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import NIOWebSocket
import Testing
import WSClient
import ZvonokCore
import ZvonokServer
import ZvonokStorage
import ZvonokTestSupport

/// Revocation reaches open connections (issue 15): removal, signing out, an admin's revocation, a new invite and token
/// expiry close the person's WebSockets with 4001, and a change of chats stops deliveries and posts at once.
@Suite struct RevocationTests {
    static let sessionEnded = WebSocketErrorCode.unknown(4001)

    /// Opens the hub as `token`, runs `whileOpen` once `ready` came, and returns how the server closed the connection.
    /// A server that has not closed it 10 seconds later finds the client closing with 1000, which no test expects.
    static func close(
        of api: APIClient, token: String, whileOpen: @escaping @Sendable () async throws -> Void
    ) async throws -> WebSocketCloseFrame? {
        try await api.client.ws("/v1/ws", configuration: WebSocketHubTests.configuration(token: token)) { inbound, outbound, _ in
            var frames = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            _ = try await WebSocketHubTests.next("ready", from: &frames)
            try await whileOpen()
            let giveUp = Task {
                try? await Task.sleep(for: .seconds(10))
                try? await outbound.close(.normalClosure, reason: "the server did not close")
            }
            defer { giveUp.cancel() }
            while try await frames.next() != nil {}
        }
    }

    /// The direct chat of two people of the fixture, opened by the first.
    static func directChat(_ api: APIClient, _ school: SchoolFixture, _ first: String, _ second: String) async throws -> String {
        let chat = try await api.post("/v1/chats/direct", token: school.token(first), ["userId": school.id(second)])
        return try #require(chat.string("id"))
    }

    /// A second token of `name`'s, written as activation writes one (a new invite would end the first).
    static func secondToken(of name: String, _ school: SchoolFixture, _ api: APIClient) async throws -> String {
        let person = try #require(PublicID.decode(.person, school.id(name)))
        return try await withRunningDatabase(api.databaseURL) { try await mintToken(for: person, on: $0) }
    }

    @Test func aRemovedTeacherIsCutOffAndTheirDirectChatIsReadOnly() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let direct = try await Self.directChat(api, school, "teacher5", "student1")
            let close = try await Self.close(of: api, token: school.token("teacher5")) {
                try await expect(api.call(.delete, "/v1/people/\(school.id("teacher5"))", token: school.token("schoolAdmin")), .noContent)
            }
            #expect(close?.closeCode == Self.sessionEnded)
            #expect(try await api.get("/v1/me", token: school.token("teacher5")).status == .unauthorized)
            // The child keeps the history and can no longer write into the chat.
            #expect(try await api.get("/v1/chats/\(direct)/messages", token: school.token("student1")).status == .ok)
            try await withSocket(api, token: school.token("student1")) { socket, _ in
                try await socket.send(["type": "send", "chat": direct, "cid": "after", "text": "Здравствуйте!"])
                let refused = try await socket.next("error")
                #expect(refused["code"] as? String == "forbidden")
                #expect(refused["ref"] as? String == "after")
            }
        }
    }

    @Test func signingOutClosesThatSessionsConnectionsOnly() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let other = try await Self.secondToken(of: "student1", school, api)
            try await withSocket(api, token: other) { survivor, _ in
                let close = try await Self.close(of: api, token: school.token("student1")) {
                    try await expect(api.call(.delete, "/v1/me/token", token: school.token("student1")), .noContent)
                }
                #expect(close?.closeCode == Self.sessionEnded)
                try await survivor.send(["type": "ping"])
                _ = try await survivor.next("pong")
            }
            #expect(try await api.get("/v1/me", token: school.token("student1")).status == .unauthorized)
            #expect(try await api.get("/v1/me", token: other).status == .ok)
        }
    }

    @Test func anAdminSignsAPersonOutEverywhereAndANewInviteDoesTheSame() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let second = try await Self.secondToken(of: "student1", school, api)
            let path = "/v1/people/\(school.id("student1"))"
            let close = try await Self.close(of: api, token: school.token("student1")) {
                #expect(try await api.call(.delete, "\(path)/tokens", token: school.token("teacher5")).status == .forbidden)
                try await expect(api.call(.delete, "\(path)/tokens", token: school.token("schoolAdmin")), .noContent)
            }
            #expect(close?.closeCode == Self.sessionEnded)
            for token in [school.token("student1"), second] {
                #expect(try await api.get("/v1/me", token: token).status == .unauthorized)
            }
            let audit = try await api.get("/v1/audit?action=person.sign_out", token: school.token("schoolAdmin"))
            #expect(audit.items.count == 1)

            // The phone was lost: a new invite ends the session opened with the old one.
            let newToken = try await api.activate(
                try #require(try await api.post("\(path)/invite", token: school.token("schoolAdmin")).string("inviteCode")))
            let reissued = try await Self.close(of: api, token: newToken) {
                try await expect(api.post("\(path)/invite", token: school.token("schoolAdmin")), .created)
            }
            #expect(reissued?.closeCode == Self.sessionEnded)
            #expect(try await api.get("/v1/me", token: newToken).status == .unauthorized)
        }
    }

    @Test func aTokenExpiresWhenUnusedForItsLifetimeAndUseSlidesIt() async throws {
        try await withTestServer(configure: {
            $0.tokenLifetime = .seconds(5); $0.sessionCheckInterval = .milliseconds(300)
        }) { api in
            let school = try await SchoolFixture.build(api)
            let activation = try await api.post("/v1/people/\(school.id("student1"))/invite", token: school.token("schoolAdmin"))
            let answer = try await api.post("/v1/invites/\(try #require(activation.string("inviteCode")))/activate", token: nil)
            let token = try #require(answer.string("token"))
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let expiresAt = try #require(answer.string("expiresAt").flatMap(formatter.date(from:)))
            #expect(abs(expiresAt.timeIntervalSinceNow - 5) < 2)
            // Used every second for six seconds: past its first expiry, still working.
            for _ in 0..<6 {
                try await Task.sleep(for: .seconds(1))
                #expect(try await api.get("/v1/me", token: token).status == .ok)
            }
            // A connection left open after the last use is closed once the token expires.
            let started = ContinuousClock.now
            let close = try await Self.close(of: api, token: token) {}
            #expect(close?.closeCode == Self.sessionEnded)
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(try await api.get("/v1/me", token: token).status == .unauthorized)
        }
    }

    @Test func aStudentMovedToAnotherClassStopsReceivingAndPostingThereAtOnce() async throws {
        try await withTestServer(configure: { $0.sendRate = 0 }) { api in
            let school = try await SchoolFixture.build(api)
            let class5 = try await WebSocketOrderTests.classChat(api, school, of: "teacher5")
            let class6 = try await WebSocketOrderTests.classChat(api, school, of: "teacher6")
            try await withSocket(api, token: school.token("student1")) { student, _ in
                try await expect(
                    api.call(
                        .patch, "/v1/people/\(school.id("student1"))", token: school.token("schoolAdmin"), json: ["classId": school.id("class6")]),
                    .ok
                )
                try await student.send(["type": "send", "chat": class5, "cid": "old", "text": "Я ещё здесь?"])
                #expect(try await student.next("error")["code"] as? String == "not_found")
                try await withSocket(api, token: school.token("teacher5")) { teacher, _ in
                    try await teacher.send(["type": "send", "chat": class5, "cid": "t5", "text": "Только для 5А"])
                    _ = try await teacher.next("ack")
                }
                try await withSocket(api, token: school.token("teacher6")) { teacher, _ in
                    try await teacher.send(["type": "send", "chat": class6, "cid": "t6", "text": "Добро пожаловать в 6Б"])
                    _ = try await teacher.next("ack")
                }
                // The first message the student gets is 6Б's: 5А's went past them.
                let message = try await student.next("msg")
                #expect(message.chat == class6)
            }
        }
    }

    @Test func removalsAndMovesReachTheOtherNodeThroughItsNotification() async throws {
        // The periodic check is far off: what happens here comes through LISTEN/NOTIFY.
        try await ClusterTests().withTwoNodes(configure: { $0.sessionCheckInterval = .seconds(600) }) { a, b in
            let school = try await SchoolFixture.build(a)
            let class5 = try await WebSocketOrderTests.classChat(a, school)
            let started = ContinuousClock.now
            let close = try await Self.close(of: b, token: school.token("teacher6")) {
                try await expect(a.call(.delete, "/v1/people/\(school.id("teacher6"))", token: school.token("schoolAdmin")), .noContent)
            }
            #expect(close?.closeCode == Self.sessionEnded)
            #expect(ContinuousClock.now - started < .seconds(5))

            try await withSocket(b, token: school.token("student1")) { student, _ in
                try await expect(
                    a.call(.patch, "/v1/people/\(school.id("student1"))", token: school.token("schoolAdmin"), json: ["classId": school.id("class6")]),
                    .ok
                )
                try await Self.waitUntilRefused(student, in: class5)
                try await withSocket(a, token: school.token("teacher5")) { teacher, _ in
                    try await teacher.send(["type": "send", "chat": class5, "cid": "t5", "text": "Только для 5А"])
                    _ = try await teacher.next("ack")
                }
                try await student.send(["type": "ping"])
                let next = try await student.next()
                #expect(next.type == "pong", "5А's message did not reach the student who left it: \(next.json)")
            }
        }
    }

    @Test func changesWhoseNotificationWasLostAreHealedByTheCheck() async throws {
        try await withTestServer(configure: {
            $0.sendRate = 0; $0.sessionCheckInterval = .milliseconds(500)
        }) { api in
            let school = try await SchoolFixture.build(api)
            let class5 = try await WebSocketOrderTests.classChat(api, school)
            // Straight into the database, as a node that crashed before announcing would leave it: nothing tells the hub.
            let ids = { @Sendable (kind: PublicID.Kind, name: String) throws -> Int64 in try #require(PublicID.decode(kind, school.id(name))) }
            let change = { @Sendable (body: @Sendable (Database, PeopleStore, Identity) async throws -> Void) in
                try await withRunningDatabase(api.databaseURL) { database in
                    let people = PeopleStore(database: database)
                    let admin = try #require(try await people.person(id: ids(.person, "schoolAdmin")))
                    try await body(database, people, admin.identity)
                }
            }
            let close = try await Self.close(of: api, token: school.token("teacher6")) {
                try await change { _, people, admin in
                    _ = try await people.remove(try #require(try await people.person(id: ids(.person, "teacher6"))), by: admin)
                }
            }
            #expect(close?.closeCode == Self.sessionEnded)

            try await withSocket(api, token: school.token("student1")) { student, _ in
                try await change { database, people, admin in
                    let moving = try #require(try await people.person(id: ids(.person, "student1")))
                    let class6 = try #require(try await StructureStore(database: database).schoolClass(id: ids(.class, "class6")))
                    _ = try await people.moveStudent(moving, to: class6, by: admin)
                }
                try await Self.waitUntilRefused(student, in: class5)
            }
        }
    }

    /// Sends into `chat`, which the person has just left, until this node's hub knows they left (`not_found`, at most
    /// ten seconds). Meanwhile the database refuses every post (`forbidden`); none may be acknowledged.
    static func waitUntilRefused(_ socket: TestSocket, in chat: String) async throws {
        for attempt in 0..<50 {
            let cid = "probe-\(attempt)"
            try await socket.send(["type": "send", "chat": chat, "cid": cid, "text": "?"])
            var frame = try await socket.next()
            while frame["ref"] as? String != cid, frame["cid"] as? String != cid { frame = try await socket.next() }
            switch (frame.type, frame["code"] as? String) {
            case ("error", "not_found"): return
            case ("error", "forbidden"): try await Task.sleep(for: .milliseconds(200))
            default: throw TestFailure("a post into a chat the person left was answered \(frame.json)")
            }
        }
        throw TestFailure("the hub still takes the chat the person left for theirs")
    }
}
