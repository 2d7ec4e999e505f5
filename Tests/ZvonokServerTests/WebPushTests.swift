import Crypto
import Foundation
import Hummingbird
import PostgresNIO
import Testing
import ZvonokCore
import ZvonokStorage

@testable import ZvonokServer

/// Web Push end to end (issue 18): what the server sends is decrypted and its VAPID signature checked by
/// implementations independent of the server's (Tests/support/webpush_check.py), against a push service on loopback.
@Suite struct WebPushTests {
    @Test func thePayloadDecryptsWithHTTPECEAndTheVAPIDSignatureVerifies() async throws {
        let subscriber = TestSubscriber()
        let encryption = try WebPushEncryption(p256dh: subscriber.key.publicKey.x963Representation, auth: subscriber.auth)
        let plaintext = #"{"text":"Завтра контрольная"}"#
        let signer = VAPIDSigner(key: P256.Signing.PrivateKey(), contact: "mailto:ops@school.example")
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let request = TestPushService.Received(
            path: "/p", headers: ["authorization": try signer.authorization(for: URL(string: "https://fcm.googleapis.com/fcm/send/abc")!, now: now)],
            body: try encryption.encrypt(Data(plaintext.utf8)))
        let opened = try await subscriber.open(request)
        #expect(opened.payload["text"] as? String == "Завтра контрольная")
        #expect(opened.header["alg"] as? String == "ES256")
        #expect(opened.claims["aud"] as? String == "https://fcm.googleapis.com")
        #expect(opened.claims["sub"] as? String == "mailto:ops@school.example")
        #expect(opened.claims["exp"] as? Int == 1_790_000_000 + 12 * 3600)
        // A body for another subscriber does not open.
        let other = TestSubscriber()
        await #expect(throws: TestFailure.self) { try await other.open(request) }
    }

    @Test func subscriptionsTakeOnlyAllowedEndpointsAndValidKeys() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let token = school.token("student1")
            let key = try expect(await api.get("/v1/push/vapid-key", token: nil), .ok).string("key") ?? ""
            #expect(Base64URL.decode(key)?.count == 65)
            #expect(try expect(await api.get("/v1/push/vapid-key", token: token), .ok).string("key") == key)

            let subscriber = TestSubscriber()
            for endpoint in [
                "https://evil.example/push", "http://fcm.googleapis.com/fcm/send/x", "http://127.0.0.1:9/push", "https://fcm.googleapis.com:8443/x",
                "https://user@fcm.googleapis.com/x", "not a url",
            ] {
                let answer = try await api.post("/v1/me/push-subscriptions", token: token, subscriber.subscription(endpoint))
                #expect(answer.status == .badRequest, "\(endpoint)")
                #expect(answer.errorCode == "invalid_argument")
            }
            var badKey = subscriber.subscription("https://fcm.googleapis.com/fcm/send/x")
            badKey["keys"] = ["p256dh": Secret.base64URL(Data(repeating: 4, count: 65)), "auth": Secret.base64URL(subscriber.auth)]
            #expect(try await api.post("/v1/me/push-subscriptions", token: token, badKey).status == .badRequest)
            badKey["keys"] = ["p256dh": Secret.base64URL(subscriber.key.publicKey.x963Representation), "auth": "AAAA"]
            #expect(try await api.post("/v1/me/push-subscriptions", token: token, badKey).status == .badRequest)
            #expect(try await api.post("/v1/me/push-subscriptions", token: token, ["endpoint": 5]).status == .badRequest)
            #expect(
                try await api.post("/v1/me/push-subscriptions", token: nil, subscriber.subscription("https://fcm.googleapis.com/x")).status
                    == .unauthorized)

            let created = try expect(
                await api.post("/v1/me/push-subscriptions", token: token, subscriber.subscription("https://web.push.apple.com/QGx")), .created)
            let id = try #require(created.string("id"))
            #expect(try await api.call(.delete, "/v1/me/push-subscriptions/\(id)", token: school.token("student2")).status == .notFound)
            #expect(try await api.call(.delete, "/v1/me/push-subscriptions/\(id)", token: token).status == .noContent)
            #expect(try await api.call(.delete, "/v1/me/push-subscriptions/\(id)", token: token).status == .notFound)
            #expect(try await api.call(.delete, "/v1/me/push-subscriptions/p1", token: token).status == .notFound)
        }
    }

    @Test func aMessageReachesTheOfflineMembersSubscriptionEncryptedAndSigned() async throws {
        try await withTestPushService { push in
            try await withTestServer(configure: Self.loopbackPush) { api in
                let school = try await SchoolFixture.build(api)
                let subscriber = TestSubscriber()
                try expect(
                    await api.post("/v1/me/push-subscriptions", token: school.token("student1"), subscriber.subscription(push.url("/s1"))), .created)
                let teacher = TestSubscriber()
                try expect(
                    await api.post("/v1/me/push-subscriptions", token: school.token("teacher5"), teacher.subscription(push.url("/t5"))), .created)
                let ack = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: "Завтра контрольная")

                let request = try #require(try await push.requests(to: "/s1", count: 1).first)
                #expect(request.headers["content-encoding"] == "aes128gcm")
                #expect(request.headers["ttl"] == "86400")
                #expect(request.headers["topic"] == "\(ack.chat)-\(ack.seq)")
                let opened = try await subscriber.open(request)
                #expect(opened.payload["text"] as? String == "Завтра контрольная")
                #expect(opened.payload["from"] as? String == "teacher5")
                #expect(opened.payload["chat"] as? String == ack.chat)
                #expect(opened.payload["count"] as? Int == 1)
                #expect(opened.claims["aud"] as? String == "http://127.0.0.1:\(push.port)")
                let key = try expect(await api.get("/v1/push/vapid-key", token: nil), .ok).string("key")
                #expect(request.headers["authorization"]?.hasSuffix("k=\(key ?? "")") == true)
                // The sender is not notified of their own message.
                try await Task.sleep(for: .milliseconds(300))
                #expect(push.received.filter { $0.path == "/t5" }.isEmpty)
            }
        }
    }

    @Test func aGoneEndpointIsDeletedAndAFailingOneIsRetried() async throws {
        try await withTestPushService { push in
            try await withTestServer(configure: Self.loopbackPush) { api in
                let school = try await SchoolFixture.build(api)
                push.answer("/gone", with: [410])
                push.answer("/busy", with: [503, 500])
                try expect(
                    await api.post("/v1/me/push-subscriptions", token: school.token("student1"), TestSubscriber().subscription(push.url("/gone"))),
                    .created)
                try expect(
                    await api.post("/v1/me/push-subscriptions", token: school.token("student2"), TestSubscriber().subscription(push.url("/busy"))),
                    .created)
                _ = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: "Первое")
                _ = try await push.requests(to: "/gone", count: 1)
                // Two failures, then accepted on the third try; never more.
                _ = try await push.requests(to: "/busy", count: 3)
                try await waitUntil { try await Self.count("push_subscriptions", api) == 1 }
                _ = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: "Второе")
                _ = try await push.requests(to: "/busy", count: 4)
                try await Task.sleep(for: .milliseconds(300))
                #expect(push.received.filter { $0.path == "/gone" }.count == 1)
                #expect(push.received.filter { $0.path == "/busy" }.count == 4)
            }
        }
    }

    /// A failure that is not the push service's answer (here the server's VAPID key cannot be read from the
    /// database) leaves the subscription alone and the notification to be sent again once the failure passes.
    @Test func aFailureToSignIsRetriedAndKeepsTheSubscription() async throws {
        try await withTestPushService { push in
            try await withTestServer(configure: Self.loopbackPush) { api in
                let school = try await SchoolFixture.build(api)
                try expect(
                    await api.post("/v1/me/push-subscriptions", token: school.token("student1"), TestSubscriber().subscription(push.url("/s1"))),
                    .created)
                try await Self.execute(
                    [
                        "DELETE FROM push_vapid_keys",
                        "CREATE FUNCTION refuse_vapid_keys() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
                        "CREATE TRIGGER refuse_vapid_keys BEFORE INSERT ON push_vapid_keys FOR EACH ROW EXECUTE FUNCTION refuse_vapid_keys()",
                    ], api)
                _ = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: "Завтра экскурсия")
                try await waitUntil { try await Self.count("notification_deliveries WHERE attempts >= 2", api) == 1 }
                #expect(try await Self.count("push_subscriptions", api) == 1)
                #expect(push.received.isEmpty)
                try await Self.execute(["DROP TRIGGER refuse_vapid_keys ON push_vapid_keys"], api)
                _ = try await push.requests(to: "/s1", count: 1)
            }
        }
    }

    /// A test server that may call the loopback push service, sends without a coalescing window and retries fast.
    static func loopbackPush(_ configuration: inout ServerConfiguration) {
        configuration.notifications.endpoints.allowsLoopbackForTests = true
        configuration.notifications.coalescingWindow = .zero
        configuration.notifications.pollInterval = .milliseconds(50)
        configuration.notifications.firstRetry = .milliseconds(100)
    }

    static func execute(_ statements: [String], _ api: APIClient) async throws {
        try await withRunningDatabase(api.databaseURL) { database in
            for statement in statements { try await database.query(PostgresQuery(unsafeSQL: statement)) }
        }
    }

    static func count(_ table: String, _ api: APIClient) async throws -> Int {
        try await withRunningDatabase(api.databaseURL) { database in
            let rows = try await database.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table)"))
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }
}

/// An `ack` as the tests read it.
struct Ack {
    let chat: String
    let seq: Int
    let quietUntil: String?
}

/// Sends `text` to the caller's first chat of `kind` over a WebSocket, and returns the ack.
func sendToChat(_ api: APIClient, token: String, kind: String, text: String, urgent: Bool = false) async throws -> Ack {
    let chat = try #require(try await api.get("/v1/me/chats", token: token).items.first { $0["kind"] as? String == kind }?["id"] as? String)
    let (ack, _) = try await withSocket(api, token: token) { socket, _ in
        var frame: [String: Any] = ["type": "send", "chat": chat, "cid": UUID().uuidString, "text": text]
        if urgent { frame["urgent"] = true }
        try await socket.send(frame)
        let ack = try await socket.next("ack")
        return Ack(chat: chat, seq: ack.seq ?? 0, quietUntil: ack["quietUntil"] as? String)
    }
    return ack
}

/// Waits until `condition` holds, checking every 20 ms for at most `timeout`.
func waitUntil(within timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TestFailure("the condition did not hold within \(timeout)")
}
