import Foundation
import HummingbirdTesting
import PostgresNIO
import Testing
import ZvonokCore
import ZvonokServer
import ZvonokStorage

/// Every client frame kind is limited per person, and nothing the server writes escapes the outbound bound
/// (issue 15, hole 4), over real connections.
@Suite struct FrameLimitTests {
    /// Issue 15 saw 200 edits of 2–3 KB in three seconds all accepted and all fanned out to the class.
    @Test func twoHundredEditsInABurstReachTheClassOnlyUpToTheLimit() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            try await withSocket(api, token: school.token("student1")) { student, _ in
                let accepted = try await withSocket(api, token: school.token("teacher5")) { teacher, _ in
                    try await teacher.send(["type": "send", "chat": chat, "cid": "m1", "text": "Домашнее задание"])
                    _ = try await teacher.next("ack")
                    let start = ContinuousClock.now
                    for index in 0..<200 {
                        let text = "Исправление \(index): " + String(repeating: "длинный текст ", count: 70 + index % 40)
                        try await teacher.send(["type": "edit", "chat": chat, "seq": 1, "text": text, "ref": "e\(index)"])
                    }
                    try await teacher.send(["type": "ping"])
                    let refused = try await teacher.frames(until: "pong").filter { $0.type == "error" }
                    #expect(refused.allSatisfy { $0["code"] as? String == "rate_limited" && ($0["ref"] as? String)?.hasPrefix("e") == true })
                    // 10 at once, then one a second.
                    let allowance = Self.allowance(burst: 10, perSecond: 1, since: start)
                    #expect(200 - refused.count <= allowance, "\(200 - refused.count) of 200 edits accepted; \(allowance) allowed")
                    try await teacher.send(["type": "send", "chat": chat, "cid": "m2", "text": "конец"])
                    _ = try await teacher.next("ack")
                    return 200 - refused.count
                }.result
                // The class got exactly the accepted edits.
                _ = try await student.next("msg")
                #expect(try await student.frames(until: "msg").count { $0.type == "edited" } == accepted)
            }
        }
    }

    /// Issue 15 saw 200 `read` frames in a burst all accepted, each an fsync'd write.
    @Test func twoHundredReadMarksInABurstAreLimited() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            try await withSocket(api, token: school.token("student1")) { student, _ in
                let start = ContinuousClock.now
                for index in 0..<200 { try await student.send(["type": "read", "chat": chat, "seq": index, "ref": "r\(index)"]) }
                try await student.send(["type": "send", "chat": chat, "cid": "after", "text": "ещё тут"])
                let refused = try await student.frames(until: "ack").filter { $0.type == "error" && $0["code"] as? String == "rate_limited" }.map {
                    $0["ref"] as? String ?? ""
                }
                // 50 at once, then five a second.
                let allowance = Self.allowance(burst: 50, perSecond: 5, since: start)
                #expect(200 - refused.count <= allowance, "\(200 - refused.count) of 200 read marks accepted; \(allowance) allowed")
                #expect(refused.allSatisfy { $0.hasPrefix("r") })
            }
        }
    }

    @Test func aReadThatDoesNotMoveTheMarkWritesNothing() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            let (chatID, personID) = (PublicID.decode(.chat, chat)!, PublicID.decode(.person, school.id("student1"))!)
            @Sendable func rowVersion() async throws -> String {
                try await withRunningDatabase(api.databaseURL) { database in
                    let rows = try await database.query(
                        "SELECT xmin::text || '/' || read_seq FROM chat_members WHERE chat_id = \(chatID) AND person_id = \(personID)")
                    return try await rows.decode(String.self).first { _ in true } ?? "none"
                }
            }
            try await withSocket(api, token: school.token("student1")) { student, _ in
                try await student.send(["type": "send", "chat": chat, "cid": "one", "text": "раз"])
                _ = try await student.next("ack")
                try await student.send(["type": "read", "chat": chat, "seq": 1])
                #expect(try await student.next("read").seq == 1)
                let moved = try await rowVersion()
                // Neither the same mark, nor one behind it, nor one past the last message writes the row again.
                for seq in [1, 0, 5] { try await student.send(["type": "read", "chat": chat, "seq": seq]) }
                try await student.send(["type": "ping"])
                _ = try await student.next("pong")
                #expect(try await rowVersion() == moved)
                #expect(moved.hasSuffix("/1"))
            }
        }
    }

    @Test func everyLimitedKindIsRefusedWithItsRefBeyondItsConfiguredAllowance() async throws {
        let slow = FrameRate(perSecond: 0.001, burst: 3)
        try await withTestServer(configure: { configuration in
            configuration.sendRate = 0.001
            configuration.sendBurst = 3
            for kind in FrameKind.allCases where kind != .send { configuration.frameRates[kind] = slow }
        }) { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            try await withSocket(api, token: school.token("teacher5")) { teacher, _ in
                var refused: [String: [Int]] = [:]
                /// Notes a refusal; true for the last frame's.
                func record(_ frame: Frame) -> Bool {
                    guard frame.type == "error", let ref = frame["ref"] as? String else { return false }
                    guard ref != "last" else { return true }
                    #expect(frame["code"] as? String == "rate_limited", "\(ref): \(frame["code"] ?? "")")
                    let parts = ref.split(separator: "-")
                    refused[String(parts[0]), default: []].append(Int(parts[1]) ?? -1)
                    return false
                }
                for kind in ["send", "edit", "sync", "read", "ping", "delete"] {
                    for index in 0..<6 {
                        var frame: [String: Any] = ["type": kind, "chat": chat, "ref": "\(kind)-\(index)", "seq": 1, "after": 0, "text": "текст"]
                        if kind == "send" { frame["cid"] = "\(kind)-\(index)" }
                        try await teacher.send(frame)
                    }
                    // The edits need the message committed.
                    var acks = 0
                    while kind == "send", acks < 3 {
                        let frame = try await teacher.next()
                        if frame.type == "ack" { acks += 1 } else { _ = record(frame) }
                    }
                }
                try await teacher.send(["type": "typing", "chat": chat, "ref": "last"])
                try await teacher.send(["type": "ping", "ref": "last"])
                while try await !record(teacher.next()) {}
                let expected = Dictionary(uniqueKeysWithValues: ["send", "edit", "sync", "read", "ping", "delete"].map { ($0, [3, 4, 5]) })
                #expect(refused == expected)
            }
        }
    }

    /// The most frames a bucket of `burst`, refilled at `perSecond`, lets through from `start` until now (plus one
    /// for the refill under way): a slow machine stretches the burst, so the bound follows the time it took.
    static func allowance(burst: Int, perSecond: Double, since start: ContinuousClock.Instant) -> Int {
        let elapsed = ContinuousClock.now - start
        return burst + Int((Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * perSecond) + 1
    }

    /// WebSocket pings are answered through the connection's bounded queue: a client that pings and never reads is
    /// closed with 4008 instead of the answers piling up in the server's memory.
    @Test func aClientThatPingsAndNeverReadsIsClosedWith4008() async throws {
        try await withTestServer(configure: { $0.closeGrace = .seconds(300) }) { api in
            let school = try await SchoolFixture.build(api)
            let client = PingingClient(port: try #require(api.client.port), token: school.token("student1"))
            // Without the bound every ping is answered and the client finds no close frame.
            #expect(try await client.flood(pings: Self.pingsToOverflow()) == 4008)
        }
    }

    /// Twice as many pings as the server's socket buffer holds answers (at most `net.ipv4.tcp_wmem`'s largest size,
    /// 4 MiB here: about 33,000 answers of 127 bytes), plus the 4,096 of its queue and one burst: 80,000 here.
    static func pingsToOverflow() -> Int {
        let sizes = (try? String(contentsOfFile: "/proc/sys/net/ipv4/tcp_wmem", encoding: .utf8)) ?? ""
        let largest = sizes.split(whereSeparator: \.isWhitespace).last.flatMap { Int($0) } ?? 4 << 20
        return max(80_000, 2 * largest / 127 + 2 * 4096)
    }
}
