import Foundation
import Hummingbird
import Testing
import ZvonokCore
import ZvonokServer
import ZvonokStorage

/// Quiet hours set by the school, in its region's time zone (issue 18), on an injected clock.
@Suite struct QuietHoursTests {
    @Test func notificationsAreHeldUntilQuietHoursEndAndThenSummarised() async throws {
        // 22:00 in Omsk (UTC+6): quiet for students by default until 07:00, 01:00 UTC.
        let clock = TestClock(NotificationRulesTests.evening)
        try await withTestPushService { push in
            try await withTestServer(configure: { NotificationRulesTests.configure(&$0, clock: clock) }) { api in
                let school = try await SchoolFixture.build(api)
                try expect(await api.call(.put, "/v1/regions/55/time-zone", token: school.token("regional"), json: ["timeZone": "Asia/Omsk"]), .ok)
                let subscriber = TestSubscriber()
                try expect(
                    await api.post("/v1/me/push-subscriptions", token: school.token("student1"), subscriber.subscription(push.url("/s1"))), .created)
                let first = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: "Не забудьте форму")
                #expect(first.quietUntil == "2026-12-05T01:00:00.000Z")
                try await waitUntil { try await pending(api, "count") == [1] }
                clock.advance(by: 10)
                // Held: due again when the quiet hours end; a later message adds to it.
                try await waitUntil { try await pending(api, "extract(epoch FROM due_at)") == [1_796_432_400] }
                _ = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: "И сменку")
                try await waitUntil { try await pending(api, "count") == [2] }
                clock.advance(by: 3600)
                try await Task.sleep(for: .milliseconds(300))
                #expect(push.received.isEmpty)
                clock.set(Date(timeIntervalSince1970: 1_796_432_400))
                let request = try #require(try await push.requests(to: "/s1", count: 1).first)
                let payload = try await subscriber.open(request).payload
                #expect(payload["count"] as? Int == 2)
                #expect(payload["text"] as? String == "И сменку")
            }
        }
    }

    @Test func theSameMomentIsNotQuietInAnotherTimeZoneAndUrgentGoesThrough() async throws {
        let clock = TestClock(NotificationRulesTests.evening)
        try await withTestPushService { push in
            try await withTestServer(configure: { NotificationRulesTests.configure(&$0, clock: clock) }) { api in
                let school = try await SchoolFixture.build(api)
                // 18:00 in Kaliningrad (UTC+2): not quiet.
                try expect(
                    await api.call(.put, "/v1/regions/55/time-zone", token: school.token("regional"), json: ["timeZone": "Europe/Kaliningrad"]), .ok)
                #expect(
                    try await api.call(.put, "/v1/regions/55/time-zone", token: school.token("regional"), json: ["timeZone": "Mars/Olympus"]).status
                        == .badRequest)
                #expect(
                    try await api.call(.put, "/v1/regions/55/time-zone", token: school.token("schoolAdmin"), json: ["timeZone": "Asia/Omsk"]).status
                        == .forbidden)
                try expect(
                    await api.post("/v1/me/push-subscriptions", token: school.token("student1"), TestSubscriber().subscription(push.url("/s1"))),
                    .created)
                let ack = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: "Вечер, но не поздно")
                #expect(ack.quietUntil == nil)
                try await waitUntil { try await pending(api, "count") == [1] }
                clock.advance(by: 10)
                _ = try await push.requests(to: "/s1", count: 1)

                // Three hours later it is 21:00 there: quiet, except for an admin's urgent message.
                clock.advance(by: 3 * 3600)
                let refused = try await withSocket(api, token: school.token("teacher5")) { socket, _ in
                    let chat = try #require(
                        try await api.get("/v1/me/chats", token: school.token("teacher5")).items.first { $0["kind"] as? String == "school" }?["id"]
                            as? String)
                    try await socket.send(["type": "send", "chat": chat, "cid": "u1", "text": "Срочно", "urgent": true])
                    return try await socket.next("error")["code"] as? String
                }
                #expect(refused.result == "forbidden")
                let urgent = try await sendToChat(api, token: school.token("schoolAdmin"), kind: "school", text: "Завтра школа закрыта", urgent: true)
                #expect(urgent.quietUntil == "2026-12-05T05:00:00.000Z")
                _ = try await push.requests(to: "/s1", count: 2)
                let audit = try expect(await api.get("/v1/audit?action=message.urgent", token: school.token("schoolAdmin")), .ok)
                #expect(audit.items.count == 1)
            }
        }
    }

    @Test func schoolAdminsSetQuietHoursAndBadValuesAreRefused() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let path = "/v1/schools/\(school.id("school"))/quiet-hours"
            let initial = try expect(await api.get(path, token: school.token("schoolAdmin")), .ok)
            #expect(initial.string("from") == "21:00" && initial.string("to") == "07:00")
            #expect(initial["applies"] as? [String] == ["guardian", "student"])
            for bad: [String: Any] in [
                ["from": "25:00", "to": "07:00", "applies": ["student"]], ["from": "9:00", "to": "07:00", "applies": ["student"]],
                ["from": "20:00", "to": "07:00", "applies": ["ministry"]], ["from": "20:00", "to": "07:00"],
            ] {
                #expect(try await api.call(.put, path, token: school.token("schoolAdmin"), json: bad).status == .badRequest, "\(bad)")
            }
            let hours: [String: Any] = ["from": "19:30", "to": "08:00", "applies": ["teacher", "guardian", "student"]]
            #expect(try await api.call(.put, path, token: school.token("teacher5"), json: hours).status == .forbidden)
            #expect(
                try await api.call(.put, "/v1/schools/\(school.id("otherSchool"))/quiet-hours", token: school.token("schoolAdmin"), json: hours)
                    .status == .forbidden)
            let set = try expect(await api.call(.put, path, token: school.token("schoolAdmin"), json: hours), .ok)
            #expect(set.string("from") == "19:30" && set.string("to") == "08:00")
            #expect(
                try expect(await api.get(path, token: school.token("teacher5")), .ok)["applies"] as? [String] == ["guardian", "student", "teacher"])
        }
    }
}
