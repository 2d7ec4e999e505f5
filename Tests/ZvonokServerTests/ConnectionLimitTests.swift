import Foundation
import Hummingbird
import HummingbirdWSTesting
import NIOWebSocket
import Testing
import WSClient
import ZvonokCore
import ZvonokServer

/// A person may hold only so many connections open on a node (issue 8): the next upgrade is refused with 429 and
/// the JSON error, and once one closes, a new one is welcome.
@Suite struct ConnectionLimitTests {
    @Test func aPersonBeyondTheConnectionLimitIsRefusedUntilOneCloses() async throws {
        try await withTestServer(configure: { $0.maximumConnectionsPerPerson = 3 }) { api in
            let school = try await SchoolFixture.build(api)
            let token = school.token("student1")
            try await withSocket(api, token: token) { _, _ in
                try await withSocket(api, token: token) { _, _ in
                    try await withSocket(api, token: token) { _, _ in
                        #expect(try await Self.isRefused(api, token: token), "a fourth connection is not upgraded")
                        // Someone else is not affected.
                        try await withSocket(api, token: school.token("student2")) { socket, _ in
                            try await socket.send(["type": "ping"])
                            _ = try await socket.next("pong")
                        }
                    }
                }
                // Two are open again (once the server has seen the close): a third is welcome.
                let deadline = ContinuousClock.now + .seconds(10)
                while try await Self.isRefused(api, token: token), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await withSocket(api, token: token) { socket, _ in
                    try await socket.send(["type": "ping"])
                    _ = try await socket.next("pong")
                }
            }
        }
    }

    /// Whether an upgrade as `token` is refused (the refusal is a 429 with the JSON error; the WebSocket client
    /// only tells that the upgrade failed).
    private static func isRefused(_ api: APIClient, token: String) async throws -> Bool {
        let upgraded = try? await api.client.ws("/v1/ws", configuration: .init(additionalHeaders: [.authorization: "Bearer \(token)"])) {
            _, outbound, _ in
            try await outbound.close(.normalClosure, reason: nil)
        }
        return upgraded == nil
    }

    /// Every request with a made-up token used to take a database connection for the look-up (issue 15's review):
    /// now a string not shaped like a token is refused without one, and an address whose tokens keep failing is
    /// answered 429 before the look-up.
    @Test func madeUpTokensAreLimitedPerAddress() async throws {
        try await withTestServer { api in
            // 400 at once: the first 100 are looked up and refused, then (but for the few a second it refills) 429.
            let answers = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<400 { group.addTask { try await api.get("/v1/me", token: Secret.token()).status } }
                return try await group.reduce(into: [HTTPResponse.Status: Int]()) { $0[$1, default: 0] += 1 }
            }
            #expect(answers[.unauthorized, default: 0] >= 100)
            #expect(answers[.tooManyRequests, default: 0] >= 100, "\(answers)")
            #expect(answers.keys.allSatisfy { [.unauthorized, .tooManyRequests].contains($0) }, "\(answers)")
            // Not shaped like a token: refused at once, whatever the address has spent.
            #expect(try await api.get("/v1/me", token: "not-a-token").status == .unauthorized)
        }
    }
}
