import Foundation
import Hummingbird
import PostgresNIO
import Synchronization
import Testing
import ZvonokCore
import ZvonokServer
import ZvonokStorage

/// Who gets what (issue 18): the notification sender works on an injected clock, and each test waits for the state
/// in the database that a step leaves before it moves the clock on, so nothing depends on timing.
@Suite struct NotificationRulesTests {
    /// 16:00 UTC: 22:00 in Omsk, 18:00 in Kaliningrad.
    static let evening = Date(timeIntervalSince1970: 1_796_400_000)  // 2026-12-04T16:00:00Z

    @Test func messagesWithinTheWindowMakeOneNotificationWithACountAndAnEditMakesNone() async throws {
        let clock = TestClock(Self.evening.addingTimeInterval(-6 * 3600))
        try await withTestPushService { push in
            try await withTestServer(configure: { Self.configure(&$0, clock: clock) }) { api in
                let school = try await SchoolFixture.build(api)
                let subscriber = TestSubscriber()
                try expect(
                    await api.post("/v1/me/push-subscriptions", token: school.token("student1"), subscriber.subscription(push.url("/s1"))), .created)
                for text in ["Первое", "Второе", "Третье"] {
                    _ = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: text)
                }
                try await waitUntil { try await pending(api, "count") == [3] }
                #expect(push.received.isEmpty)
                clock.advance(by: 10)
                let request = try #require(try await push.requests(to: "/s1", count: 1).first)
                let payload = try await subscriber.open(request).payload
                #expect(payload["count"] as? Int == 3)
                #expect(payload["text"] as? String == "Третье")

                // An edit of a message already notified notifies nobody.
                try await withSocket(api, token: school.token("teacher5")) { socket, ready in
                    let chat = try #require(
                        try await api.get("/v1/me/chats", token: school.token("teacher5")).items.first { $0["kind"] as? String == "class" }?["id"]
                            as? String)
                    try await socket.send(["type": "edit", "chat": chat, "seq": 1, "text": "Первое, исправлено"])
                    _ = try await socket.next("edited")
                }
                try await waitUntil { try await WebPushTests.count("notification_outbox", api) == 0 }
                clock.advance(by: 10)
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await pending(api, "count") == [])
                #expect(push.received.count == 1)
            }
        }
    }

    @Test func aMutedChatAndAConnectedMemberAreNotNotified() async throws {
        let clock = TestClock(Self.evening.addingTimeInterval(-6 * 3600))
        try await Self.withSubscribedStudents(clock: clock) { push, api, school in
            let chat = try #require(
                try await api.get("/v1/me/chats", token: school.token("student1")).items.first { $0["kind"] as? String == "class" }?["id"]
                    as? String)
            let mute = "/v1/me/chats/\(chat)/notifications"
            #expect(
                try await api.call(.put, mute, token: school.token("student1"), json: ["muted": true, "until": "tomorrow"]).status == .badRequest)
            #expect(
                try await api.call(.put, mute, token: school.token("student1"), json: ["muted": false, "until": "2026-12-05T00:00:00Z"]).status
                    == .badRequest)
            #expect(try await api.call(.put, mute, token: school.token("student1"), json: ["muted": "yes"]).status == .badRequest)
            #expect(try await api.call(.put, mute, token: school.token("student3"), json: ["muted": true]).status == .notFound)
            let muted = try expect(await api.call(.put, mute, token: school.token("student1"), json: ["muted": true]), .ok)
            #expect(muted["muted"] as? Bool == true)

            // student2 reads along on an open connection while the message comes: nothing is even pending for them.
            try await withSocket(api, token: school.token("student2")) { socket, _ in
                try await waitUntil { try await Self.presence(api) == 1 }
                _ = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: "Пока все в сети")
                try await waitUntil { try await WebPushTests.count("notification_outbox", api) == 0 }
                #expect(try await pending(api, "count") == [])
                clock.advance(by: 10)
            }
            #expect(try await WebPushTests.count("notification_deliveries", api) == 0)

            // Unmuted, and student2 gone: both are notified of the next one.
            try expect(await api.call(.put, mute, token: school.token("student1"), json: ["muted": false]), .ok)
            try await waitUntil { try await Self.presence(api) == 0 }
            _ = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: "Все вышли")
            try await waitUntil { try await pending(api, "count") == [1, 1] }
            clock.advance(by: 10)
            _ = try await push.requests(to: "/student1", count: 1)
            _ = try await push.requests(to: "/student2", count: 1)
            #expect(push.received.count == 2)

            // Muted for an hour: left out until the hour has passed.
            let hourLater = ISO8601DateFormatter().string(from: clock.now.addingTimeInterval(3600))
            let timed = try expect(
                await api.call(.put, mute, token: school.token("student2"), json: ["muted": true, "until": hourLater]), .ok)
            #expect(timed["until"] as? String == hourLater.replacingOccurrences(of: "Z", with: ".000Z"))
            _ = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: "Во время тишины")
            try await waitUntil { try await pending(api, "count") == [1] }
            clock.advance(by: 3600)
            _ = try await push.requests(to: "/student1", count: 2)
            _ = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: "Час прошёл")
            try await waitUntil { try await pending(api, "count") == [1, 1] }
        }
    }

    @Test func aMemberWhoLeavesTheChatBeforeTheNotificationIsNotNotified() async throws {
        let clock = TestClock(Self.evening.addingTimeInterval(-6 * 3600))
        try await Self.withSubscribedStudents(clock: clock) { push, api, school in
            _ = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: "Для 5А")
            try await waitUntil { try await pending(api, "count") == [1, 1] }
            // Within the coalescing window, student1 moves to 6Б and leaves 5А's chat.
            try expect(
                await api.call(
                    .patch, "/v1/people/\(school.id("student1"))", token: school.token("schoolAdmin"), json: ["classId": school.id("class6")]),
                .ok)
            clock.advance(by: 10)
            _ = try await push.requests(to: "/student2", count: 1)
            try await waitUntil { try await pending(api, "count") == [] }
            try await Task.sleep(for: .milliseconds(300))
            #expect(push.received.map(\.path) == ["/student2"])
        }
    }

    /// Runs `body` with a test server on `clock` and a school whose student1 and student2 each subscribed at the push
    /// service, as `/student1` and `/student2`.
    static func withSubscribedStudents(
        clock: TestClock, _ body: @Sendable @escaping (TestPushService, APIClient, SchoolFixture) async throws -> Void
    ) async throws {
        try await withTestPushService { push in
            try await withTestServer(configure: { configure(&$0, clock: clock) }) { api in
                let school = try await SchoolFixture.build(api)
                for name in ["student1", "student2"] {
                    try expect(
                        await api.post("/v1/me/push-subscriptions", token: school.token(name), TestSubscriber().subscription(push.url("/\(name)"))),
                        .created)
                }
                try await body(push, api, school)
            }
        }
    }

    static func configure(_ configuration: inout ServerConfiguration, clock: TestClock) {
        WebPushTests.loopbackPush(&configuration)
        configuration.notifications.coalescingWindow = .seconds(5)
        configuration.notifications.presenceInterval = .milliseconds(50)
        configuration.notifications.clock = { clock.now }
        // The clock stands still between the test's moves: a request that failed (a kept-alive connection the push
        // service closed) is tried again at once rather than at a time that never comes.
        configuration.notifications.firstRetry = .zero
    }

    /// People with a connection open on a live node.
    static func presence(_ api: APIClient) async throws -> Int {
        try await withRunningDatabase(api.databaseURL) { database in
            let rows = try await database.query("SELECT count(*)::int FROM push_presence")
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }
}

/// One column of the pending notifications, in person order.
func pending(_ api: APIClient, _ column: String) async throws -> [Int] {
    try await withRunningDatabase(api.databaseURL) { database in
        let rows = try await database.query(PostgresQuery(unsafeSQL: "SELECT \(column)::int FROM notification_pending ORDER BY person_id"))
        var values: [Int] = []
        for try await value in rows.decode(Int.self) { values.append(value) }
        return values
    }
}

/// The time the notification sender takes for now, moved by the test.
final class TestClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date) { current = Mutex(start) }

    var now: Date { current.withLock { $0 } }

    func advance(by seconds: TimeInterval) { current.withLock { $0.addTimeInterval(seconds) } }
    func set(_ date: Date) { current.withLock { $0 = date } }
}
