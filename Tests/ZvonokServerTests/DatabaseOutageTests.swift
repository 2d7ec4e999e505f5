import Foundation
import Hummingbird
import Testing
import ZvonokServer
import ZvonokStorage
import ZvonokTestSupport

/// PostgreSQL stopped in the middle of traffic and started again (issue 8): no false ack, no hang, `/health` tells,
/// and service resumes by itself with nothing lost or doubled.
@Suite struct DatabaseOutageTests {
    @Test func sendsAreRefusedWhileTheDatabaseIsDownAndServiceResumesByItself() async throws {
        try await PrivateCluster.with { cluster in
            try await withTestServer(on: cluster.url, configure: { $0.sendRate = 0 }) { api in
                let school = try await SchoolFixture.build(api)
                let chat = try await WebSocketOrderTests.classChat(api, school)
                try await withSocket(api, token: school.token("student1")) { reader, _ in
                    let acked = try await withSocket(api, token: school.token("teacher5")) { teacher, _ in
                        var acked = try await Self.send(["b1", "b2", "b3"], in: chat, on: teacher).acked

                        try await cluster.stop()
                        let down = try await Self.send(["d1", "d2", "d3"], in: chat, on: teacher)
                        #expect(down.acked.isEmpty, "no ack while the database is down")
                        #expect(down.refused == ["d1": "unavailable", "d2": "unavailable", "d3": "unavailable"])
                        let health = try await api.get("/health", token: nil)
                        #expect(health.status == .serviceUnavailable)
                        #expect(health.string("database") == "down")
                        let request = try await api.get("/v1/me/chats", token: school.token("teacher5"))
                        #expect(request.status == .serviceUnavailable)
                        #expect(request.errorCode == "unavailable")

                        try await cluster.start()
                        try await Self.waitUntilHealthy(api)
                        // The client retries what was refused, with the same cids, and goes on.
                        acked += try await Self.send(["d1", "d2", "d3", "a1", "a2"], in: chat, on: teacher).acked
                        return acked
                    }.result
                    #expect(acked.count == 8)
                    #expect(acked.sorted() == Array(1...8), "every message once, gap-free")
                    let seqs = try await reader.collect(8, "msg", in: chat).map { $0.seq! }
                    #expect(seqs == Array(1...8), "the reader got each once, in order")
                }
            }
        }
    }

    /// Issue 15: a frozen PostgreSQL (every process stopped with SIGSTOP: connections open, nothing answers) held
    /// every commit and request with no answer, and a lease said to give up after 5 s waited 60. Now each waits at
    /// most the lease timeout, or the statement timeout plus the lease timeout once it has its connection.
    @Test func aFrozenDatabaseIsAnsweredWithinTheBoundAndServiceResumesAfterIt() async throws {
        let timeouts = Database.Timeouts(lease: .seconds(1), statement: .seconds(2))
        try await PrivateCluster.with { cluster in
            try await withTestServer(on: cluster.url, configure: { $0.sendRate = 0 }, timeouts: timeouts) { api in
                let school = try await SchoolFixture.build(api)
                let chat = try await WebSocketOrderTests.classChat(api, school)
                try await withSocket(api, token: school.token("teacher5")) { teacher, _ in
                    #expect(try await Self.send(["b1"], in: chat, on: teacher).acked == [1])

                    try cluster.freeze()
                    defer { try? cluster.thaw() }
                    let start = ContinuousClock.now
                    let down = try await Self.send(["f1", "f2"], in: chat, on: teacher)
                    #expect(down.refused == ["f1": "unavailable", "f2": "unavailable"])
                    let request = try await api.get("/v1/me/chats", token: school.token("teacher5"))
                    #expect(request.status == .serviceUnavailable)
                    let waited = ContinuousClock.now - start
                    // Three operations one after another, each bounded by lease + statement + lease (4 s here).
                    #expect(waited < .seconds(15), "the sends and the request were answered in \(waited)")

                    try cluster.thaw()
                    try await Self.waitUntilHealthy(api)
                    // Resent with the same cids: each lands once, whether or not its frozen commit went through.
                    let after = try await Self.send(["f1", "f2", "a1"], in: chat, on: teacher).acked
                    #expect(after.sorted() == [2, 3, 4])
                }
            }
        }
    }

    /// Sends one message per cid and waits for each answer: the seqs acked and the error codes of the refused.
    private static func send(_ cids: [String], in chat: String, on socket: TestSocket) async throws -> (acked: [Int], refused: [String: String]) {
        for cid in cids { try await socket.send(["type": "send", "chat": chat, "cid": cid, "text": "сообщение \(cid)"]) }
        var acked: [Int] = [], refused: [String: String] = [:]
        while acked.count + refused.count < cids.count {
            let frame = try await socket.next()
            switch frame.type {
            case "ack": acked.append(frame.seq!)
            case "error": refused[frame["ref"] as? String ?? "?"] = frame["code"] as? String
            default: continue
            }
        }
        return (acked, refused)
    }

    private static func waitUntilHealthy(_ api: APIClient) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if try await api.get("/health", token: nil).string("status") == "ok" { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestFailure("the server did not report healthy within 60 s of the database's return")
    }
}
