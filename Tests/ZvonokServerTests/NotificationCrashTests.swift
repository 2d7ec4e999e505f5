import Foundation
import Hummingbird
import Testing
import ZvonokCore
import ZvonokServer
import ZvonokStorage

/// The notification outbox across a crash (issue 18): a node killed with SIGKILL while notifications wait in the
/// outbox loses none of them once a node runs again, and sends none of those it sent before a second time.
@Suite struct NotificationCrashTests {
    @Test func aKilledNodeLosesNoNotificationAndRepeatsNone() async throws {
        try await withTestPushService { push in
            // The in-process server builds the school and sends; only the process sends notifications.
            let configure: @Sendable (inout ServerConfiguration) -> Void = { configuration in
                configuration.notifications.sends = false
                configuration.notifications.endpoints.allowsLoopbackForTests = true
            }
            try await withTestServer(configure: configure) { api in
                let school = try await SchoolFixture.build(api)
                let subscribers = ["student1": TestSubscriber(), "student2": TestSubscriber()]
                for (name, subscriber) in subscribers {
                    try expect(
                        await api.post("/v1/me/push-subscriptions", token: school.token(name), subscriber.subscription(push.url("/\(name)"))),
                        .created)
                }
                let server = ServerProcess(
                    databaseURL: api.databaseURL.description, port: try freeLoopbackPort(),
                    extraArguments: ["--push-allow-loopback-for-tests", "--push-coalesce", "2", "--node-name", "push-crash-test"])
                try await server.start()
                _ = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: "До сбоя")
                for name in subscribers.keys { _ = try await push.requests(to: "/\(name)", count: 1, within: .seconds(30)) }

                _ = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: "Во время сбоя 1")
                _ = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: "Во время сбоя 2")
                await server.kill()
                #expect(push.received.count == 2, "the node died within the coalescing window")

                try await server.start()
                for (name, subscriber) in subscribers {
                    let requests = try await push.requests(to: "/\(name)", count: 2, within: .seconds(40))
                    let payload = try await subscriber.open(requests[1]).payload
                    #expect(payload["count"] as? Int == 2)
                    #expect(payload["text"] as? String == "Во время сбоя 2")
                }
                // Past another window and several rounds: nothing is sent again.
                try await Task.sleep(for: .seconds(3))
                await server.stop()
                #expect(push.received.count == 4)
            }
        }
    }
}
