import Crypto
import Foundation
import Hummingbird
import PostgresNIO
import Testing
import ZvonokCore
import ZvonokServer
import ZvonokStorage

/// The figure of docs/performance.md (issue 18): one message to a school channel of about 1,500 members, 1,400 of
/// them offline with a Web Push subscription — the time from the ack (the commit) until the local push service has
/// received all 1,400 requests, each exactly once, with the default coalescing window and sender settings.
@Suite struct NotificationLoadTests {
    static let subscribed = 1_400

    @Test func aSchoolChannelMessageReachesFourteenHundredSubscriptions() async throws {
        try await withTestPushService { push in
            try await withTestServer(configure: { $0.notifications.endpoints.allowsLoopbackForTests = true }) { api in
                let school = try await SchoolFixture.build(api)
                try expect(
                    await api.call(.put, "/v1/schools/\(school.id("school"))/roster", token: school.token("schoolAdmin"), json: Self.roster()), .ok)
                try await Self.subscribe(Self.subscribed, to: push, api)
                let sent = ContinuousClock.now
                _ = try await sendToChat(api, token: school.token("schoolAdmin"), kind: "school", text: "Завтра линейка в 8:30")
                let acked = ContinuousClock.now
                do { try await waitUntil(within: .seconds(120)) { push.received.count >= Self.subscribed } } catch {
                    let left = try await WebPushTests.count("push_subscriptions", api)
                    let unsent = try await WebPushTests.count("notification_deliveries WHERE sent_at IS NULL", api)
                    throw TestFailure(
                        "\(push.received.count) of \(Self.subscribed) push requests arrived within 120 s; \(left) subscriptions left, \(unsent) unsent"
                    )
                }
                let arrivals = push.received.map(\.at).sorted()
                let last = try #require(arrivals.last) - acked
                let median = arrivals[arrivals.count / 2] - acked
                try await Task.sleep(for: .seconds(1))
                #expect(push.received.count == Self.subscribed)
                #expect(Set(push.received.map(\.path)).count == Self.subscribed, "one request per subscription")
                print(
                    "notification load: ack after \(acked - sent); \(Self.subscribed) push requests received, median \(median) and last \(last) after the ack"
                )
            }
        }
    }

    /// Fifteen classes of 100 students.
    static func roster() -> [String: Any] {
        let classes = (0..<15).map { ["externalId": "L\($0)", "grade": 1 + $0 % 11, "letter": ["В", "Г"][$0 / 11], "year": "2026/2027"] }
        let students = (0..<1_500).map { ["externalId": "P\($0)", "name": "Ученик \($0)", "class": "L\($0 / 100)"] }
        return ["classes": classes, "staff": [] as [Any], "students": students, "guardians": [] as [Any]]
    }

    /// Subscriptions for `count` of the school's students, written beside the server (the API would need each
    /// student's token): one browser key for all, an endpoint each.
    static func subscribe(_ count: Int, to push: TestPushService, _ api: APIClient) async throws {
        let key = Data(P256.KeyAgreement.PrivateKey().publicKey.x963Representation)
        let auth = Data(repeating: 7, count: 16)
        let prefix = push.url("/p/")
        try await withRunningDatabase(api.databaseURL) { database in
            try await database.query(
                """
                INSERT INTO push_subscriptions (person_id, endpoint, p256dh, auth)
                SELECT id, \(prefix) || id, \(key), \(auth) FROM people WHERE role = 'student' ORDER BY id LIMIT \(count)
                """
            )
        }
    }
}
