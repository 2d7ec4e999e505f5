import Foundation
import Testing
import ZvonokCore
import ZvonokStorage

/// The server killed with SIGKILL under steady send load, again and again, and restarted on the same database
/// (issue 8): every acknowledged message is in history and reached every member exactly once, in order; nothing is
/// stored twice, though clients resend what was not acknowledged when the server died.
@Suite struct CrashRecoveryTests {
    static let kills = 3
    static let messagesPerClient = 500

    @Test func aServerKilledUnderLoadLosesAndDoublesNothing() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            let server = ServerProcess(
                databaseURL: api.databaseURL.description, port: try freeLoopbackPort(),
                extraArguments: ["--send-rate", "0", "--node-name", "crash-test"])
            try await server.start()
            let clients = ["teacher5", "student1", "student2"].map {
                ResumingClient(name: $0, token: school.token($0), chat: chat, target: Self.messagesPerClient, interval: .milliseconds(8))
            }
            let total = clients.count * Self.messagesPerClient
            await withTaskGroup(of: Void.self) { group in
                for client in clients { group.addTask { await client.run(port: server.port) } }
                do {
                    for _ in 0..<Self.kills {
                        try await Task.sleep(for: .milliseconds(Int.random(in: 300...1_500)))
                        await server.kill()
                        try await server.start()
                    }
                    try await Self.waitUntil(clients.allSatisfy { $0.isDone(total: total) }, within: .seconds(120))
                } catch {
                    Issue.record(error)
                }
                group.cancelAll()
            }
            await server.stop()

            for client in clients {
                let state = client.snapshot
                #expect(state.violations.isEmpty, "\(state.violations.prefix(5))")
                if !state.violations.isEmpty || state.lastSeq != total { print("\(client.name):\n" + state.trace.suffix(40).joined(separator: "\n")) }
                #expect(state.lastSeq == total, "\(client.name) received every message once, in order")
                #expect(state.acked.count == Self.messagesPerClient && state.unacked.isEmpty)
            }
            try await Self.checkHistory(of: chat, api: api, against: clients, total: total)
            let reconnects = clients.map { $0.snapshot.connections - 1 }.reduce(0, +)
            let resent = clients.map(\.snapshot.resent).reduce(0, +)
            print(
                "crash test: \(Self.kills) kills, \(total) messages acked, \(total * clients.count) deliveries checked, \(reconnects) reconnects, \(resent) unacknowledged sends retried, lost 0, doubled 0"
            )
        }
    }

    /// History holds each acknowledged message once, at the seq it was acknowledged with, and nothing else.
    private static func checkHistory(of chat: String, api: APIClient, against clients: [ResumingClient], total: Int) async throws {
        let chatID = try #require(PublicID.decode(.chat, chat))
        let stored = try await withRunningDatabase(api.databaseURL) { database in
            try await MessageStore(database: database).messages(of: chatID, after: 0, limit: total + 100)
        }
        #expect(stored.count == total && stored.map(\.seq) == Array(1...Int64(stored.count)), "history is gap-free and holds all and nothing extra")
        #expect(Set(stored.map(\.text)).count == stored.count, "no message stored twice")
        let texts = Dictionary(uniqueKeysWithValues: stored.map { ($0.seq, $0.text) })
        for client in clients {
            for (cid, seq) in client.snapshot.acked {
                let index = Int(cid.split(separator: "-").last!)!
                #expect(texts[Int64(seq)] == client.text(index), "\(cid) is in history at its acknowledged seq")
            }
        }
    }

    private static func waitUntil(_ condition: @autoclosure () -> Bool, within limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while !condition() {
            guard ContinuousClock.now < deadline else { throw TestFailure("the clients did not settle within \(limit)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
