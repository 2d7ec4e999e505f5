import Foundation
import Hummingbird
import HummingbirdWSTesting
import NIOWebSocket
import Testing
import WSClient
import ZvonokServer

/// Order and completeness over real connections: concurrent senders, resuming with `sync`, slow readers.
@Suite struct WebSocketOrderTests {
    static func classChat(_ api: APIClient, _ school: SchoolFixture, of name: String = "teacher5") async throws -> String {
        try #require(try await api.get("/v1/me/chats", token: school.token(name)).items.first { $0["kind"] as? String == "class" }?["id"] as? String)
    }

    /// Sends `count` messages without waiting for acks, then waits for all acks.
    static func flood(_ socket: TestSocket, chat: String, count: Int, prefix: String, text: String = "сообщение") async throws {
        for index in 0..<count {
            try await socket.send(["type": "send", "chat": chat, "cid": "\(prefix)-\(index)", "text": "\(text) \(index)"])
        }
    }

    @Test func concurrentSendersGiveEveryRecipientTheSameGapFreeOrder() async throws {
        try await withTestServer(configure: { $0.sendRate = 0 }) { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await Self.classChat(api, school)
            let members = ["teacher5", "student1", "student2"]
            let perSender = 40
            let total = members.count * perSender
            // Everyone connected before anyone sends: a message committed before a member's `ready` reaches them
            // through `sync`, not live.
            let connected = TestBarrier(parties: members.count)
            let orders = try await withThrowingTaskGroup(of: [String].self) { group in
                for name in members {
                    group.addTask {
                        try await withSocket(api, token: school.token(name)) { socket, _ in
                            await connected.arriveAndWait()
                            try await Self.flood(socket, chat: chat, count: perSender, prefix: name)
                            let messages = try await socket.collect(total, "msg", in: chat)
                            return messages.map { "\($0.seq!) \($0["text"] as? String ?? "")" }
                        }.result
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(orders.count == 3)
            for order in orders {
                #expect(order == orders[0], "every recipient sees the same order")
                #expect(order.map { Int($0.prefix { $0 != " " }) } == Array(1...total))
            }
        }
    }

    @Test func aReconnectingClientSyncsExactlyTheMissedMessagesThenGoesLive() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await Self.classChat(api, school)
            @Sendable func post(_ cid: String) async throws {
                try await withSocket(api, token: school.token("teacher5")) { socket, _ in
                    try await socket.send(["type": "send", "chat": chat, "cid": cid, "text": "урок \(cid)"])
                    _ = try await socket.next("ack")
                }
            }
            // The student saw message 1, then went offline while 2 and 3 were sent.
            try await withSocket(api, token: school.token("student1")) { socket, _ in
                try await post("1")
                #expect(try await socket.next("msg").seq == 1)
            }
            try await post("2")
            try await post("3")
            try await withSocket(api, token: school.token("student1")) { socket, ready in
                let summary = (ready["chats"] as? [[String: Any]])?.first { $0["id"] as? String == chat }
                #expect(summary?["lastSeq"] as? Int == 3)
                try await socket.send(["type": "sync", "chat": chat, "after": 1])
                var seen: [String] = []
                while seen.last != "synced" {
                    let frame = try await socket.next()
                    if frame.type == "msg" { seen.append("msg \(frame.seq!)") }
                    if frame.type == "synced" {
                        #expect(frame.seq == 3)
                        seen.append("synced")
                    }
                }
                #expect(seen == ["msg 2", "msg 3", "synced"])
                try await post("4")
                let live = try await socket.next("msg")
                #expect(live.seq == 4)
                #expect(live["text"] as? String == "урок 4")
            }
        }
    }

    @Test func aSyncDuringLiveTrafficJoinsTheLiveStreamWithoutGapOrDuplicate() async throws {
        try await withTestServer(configure: { $0.sendRate = 0 }) { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await Self.classChat(api, school)
            let history = 450, live = 150
            try await withSocket(api, token: school.token("teacher5")) { socket, _ in
                try await Self.flood(socket, chat: chat, count: history, prefix: "h")
                _ = try await socket.collect(history, "ack", in: chat)
            }
            try await withSocket(api, token: school.token("student1")) { student, _ in
                // The teacher keeps posting while the student's sync reads three batches of history.
                async let posting: Void = withSocket(api, token: school.token("teacher5")) { teacher, _ in
                    try await Self.flood(teacher, chat: chat, count: live, prefix: "l")
                    _ = try await teacher.collect(live, "ack", in: chat)
                }.result
                try await student.send(["type": "sync", "chat": chat, "after": 0])
                var seqs: [Int] = []
                var synced: Int?
                while seqs.count < history + live || synced == nil {
                    let frame = try await student.next()
                    if frame.type == "msg", frame.chat == chat { seqs.append(frame.seq!) }
                    if frame.type == "synced" { synced = frame.seq }
                }
                try await posting
                #expect(seqs == Array(1...(history + live)), "every message once, in order")
                #expect(synced.map { $0 >= history } == true)
            }
        }
    }

    @Test func aReaderThatFallsBehindIsClosedWith4008WhileOthersKeepFlowing() async throws {
        // The idle reader starts reading only once the flood is over, which on a loaded machine can be long after
        // its overflow: the close grace must outlast that, or the server rightly cuts it off without a close frame.
        try await withTestServer(configure: {
            $0.sendRate = 0; $0.closeGrace = .seconds(300)
        }) { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await Self.classChat(api, school)
            let count = 6_000
            let bulky = String(repeating: "текст ", count: 150)  // ~1.6 KB a frame: the flood far exceeds 4 MiB.
            let configuration = WebSocketOrderTests.configuration(token: school.token("student1"))
            // student1 connects and stops reading.
            let close = try await api.client.ws("/v1/ws", configuration: configuration) { inbound, _, _ in
                var frames = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                _ = try await frames.next()  // ready
                try await withSocket(api, token: school.token("student2")) { reader, _ in
                    try await withSocket(api, token: school.token("teacher5")) { teacher, _ in
                        try await Self.flood(teacher, chat: chat, count: count, prefix: "f", text: bulky)
                        _ = try await teacher.collect(count, "ack", in: chat)
                    }
                    // The attentive reader got everything, in order.
                    let seqs = try await reader.collect(count, "msg", in: chat).map { $0.seq! }
                    #expect(seqs == Array(1...count))
                }
                // Now read: what was written before the overflow, then the close.
                while try await frames.next() != nil {}
            }
            #expect(close?.closeCode == .unknown(4008))
        }
    }

    /// Frames handled on the spot (`ping`, a `send` to a known chat) never overtake one that waits on the database
    /// (`sync`, `read`) sent before them: a connection's answers come in the order of its frames (contract §5).
    @Test func framesAnsweredAtOnceWaitBehindFramesThatNeedTheDatabase() async throws {
        try await withTestServer(configure: { $0.sendRate = 0 }) { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await Self.classChat(api, school)
            try await withSocket(api, token: school.token("teacher5")) { socket, _ in
                try await Self.flood(socket, chat: chat, count: 3, prefix: "before")
                _ = try await socket.collect(3, "ack", in: chat)
                for round in 0..<20 {
                    try await socket.send(["type": "sync", "chat": chat, "after": 0, "ref": "s\(round)"])
                    try await socket.send(["type": "ping", "ref": "p\(round)"])
                    try await socket.send(["type": "read", "chat": chat, "seq": 1])
                    try await socket.send(["type": "send", "chat": chat, "cid": "after-\(round)", "text": "после \(round)"])
                    var order: [String] = []
                    while order.last != "ack" {
                        let frame = try await socket.next()
                        if let type = frame.type, ["synced", "pong", "ack"].contains(type) { order.append(type) }
                    }
                    #expect(order == ["synced", "pong", "ack"], "round \(round)")
                }
            }
        }
    }

    static func configuration(token: String) -> WebSocketClientConfiguration {
        WebSocketClientConfiguration(additionalHeaders: [.authorization: "Bearer \(token)"])
    }
}
