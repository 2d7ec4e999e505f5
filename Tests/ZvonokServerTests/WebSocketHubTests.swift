import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOWebSocket
import Testing
import WSClient
import ZvonokServer

@Suite struct WebSocketHubTests {
    /// Reads JSON frames until one of the given type arrives (others are collected), within a bound.
    static func next(_ type: String, from frames: inout WebSocketInboundMessageStream.AsyncIterator) async throws -> [String: Any] {
        while let message = try await frames.next() {
            guard case .text(let text) = message, let frame = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                continue
            }
            if frame["type"] as? String == type { return frame }
        }
        throw TestFailure("connection ended before a \(type) frame")
    }

    static func configuration(token: String) -> WebSocketClientConfiguration {
        WebSocketClientConfiguration(additionalHeaders: [.authorization: "Bearer \(token)"])
    }

    @Test func aMessageIsAckedToItsSenderAndDeliveredToTheOtherMembersOnly() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let classChat = try #require(
                try await api.get("/v1/me/chats", token: school.token("teacher5")).items.first { $0["kind"] as? String == "class" }?["id"] as? String)
            let (listening, listeningReady) = AsyncStream.makeStream(of: Void.self)
            let received = LockedFrames()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (name, holder) in [("student1", received.student1), ("student3", received.student3)] {
                    group.addTask {
                        try await api.client.ws("/v1/ws", configuration: Self.configuration(token: school.token(name))) { inbound, _, _ in
                            var frames = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                            let ready = try await Self.next("ready", from: &frames)
                            holder.set(ready)
                            listeningReady.yield()
                            if name == "student1" {
                                let message = try await Self.next("msg", from: &frames)
                                holder.set(message)
                            }
                        }
                    }
                }
                var readyCount = 0
                for await _ in listening {
                    readyCount += 1
                    if readyCount == 2 { break }
                }
                try await api.client.ws("/v1/ws", configuration: Self.configuration(token: school.token("teacher5"))) { inbound, outbound, _ in
                    var frames = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                    _ = try await Self.next("ready", from: &frames)
                    try await outbound.write(.text(#"{"type":"send","chat":"\#(classChat)","cid":"c-1","text":"Завтра контрольная"}"#))
                    let ack = try await Self.next("ack", from: &frames)
                    #expect(ack["cid"] as? String == "c-1")
                    #expect(ack["seq"] as? Int == 1)
                    // The same cid again: acked with the same seq, not delivered twice.
                    try await outbound.write(.text(#"{"type":"send","chat":"\#(classChat)","cid":"c-1","text":"Завтра контрольная"}"#))
                    let again = try await Self.next("ack", from: &frames)
                    #expect(again["seq"] as? Int == 1)
                    try await outbound.write(.text(#"{"type":"ping"}"#))
                    _ = try await Self.next("pong", from: &frames)
                }
                // student3 (another class) holds its connection only until ready; student1 ends on its msg.
                try await group.waitForAll()
            }
            let message = received.student1.frame
            #expect(message["type"] as? String == "msg")
            #expect(message["text"] as? String == "Завтра контрольная")
            #expect(message["from"] as? String == school.id("teacher5"))
            #expect(message["seq"] as? Int == 1)
            let student3Chats = (received.student3.frame["chats"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            #expect(!student3Chats.contains(classChat))
        }
    }

    @Test func refusedFramesGetErrorFramesAndTheConnectionStaysUsable() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let schoolChat = try #require(
                try await api.get("/v1/me/chats", token: school.token("student1")).items.first { $0["kind"] as? String == "school" }?["id"] as? String
            )
            let classChat = try await WebSocketOrderTests.classChat(api, school)
            try await api.client.ws("/v1/ws", configuration: Self.configuration(token: school.token("student1"))) { inbound, outbound, _ in
                var frames = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                _ = try await Self.next("ready", from: &frames)
                let cases: [(String, String, String?)] = [
                    ("not json", "invalid_argument", nil),
                    (#"{"type":"dance"}"#, "invalid_argument", nil),
                    (#"{"type":"send","chat":"c999999","cid":"x1","text":"hi"}"#, "not_found", "x1"),
                    (#"{"type":"send","chat":"\#(schoolChat)","cid":"x2","text":"hi"}"#, "forbidden", "x2"),
                    (#"{"type":"send","chat":"\#(schoolChat)","cid":"x3","text":""}"#, "invalid_argument", "x3"),
                    (#"{"type":"send","chat":7,"cid":"x4","text":"hi"}"#, "invalid_argument", "x4"),
                    // PostgreSQL cannot store the NUL character: refused here, not failing the group commit it joins.
                    (#"{"type":"send","chat":"\#(classChat)","cid":"x5","text":"a\u0000b"}"#, "invalid_argument", "x5"),
                    (#"{"type":"send","chat":"\#(classChat)","cid":"x6\u0000","text":"hi"}"#, "invalid_argument", "x6\u{0}"),
                    (#"{"type":"edit","chat":"\#(classChat)","seq":1,"text":"\u0000","ref":"x7"}"#, "invalid_argument", "x7"),
                ]
                for (frame, code, ref) in cases {
                    try await outbound.write(.text(frame))
                    let error = try await Self.next("error", from: &frames)
                    #expect(error["code"] as? String == code, "\(frame)")
                    #expect(error["ref"] as? String == ref, "\(frame)")
                }
                try await outbound.write(.text(#"{"type":"ping"}"#))
                _ = try await Self.next("pong", from: &frames)
                try await outbound.write(.text(#"{"type":"send","chat":"\#(classChat)","cid":"x8","text":"hi"}"#))
                #expect(try await Self.next("ack", from: &frames)["seq"] as? Int == 1)
            }
        }
    }

    @Test func aMembershipChangeTakesEffectOnAnOpenConnection() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            func classChat(_ teacher: String) async throws -> String {
                try #require(
                    try await api.get("/v1/me/chats", token: school.token(teacher)).items.first { $0["kind"] as? String == "class" }?["id"] as? String
                )
            }
            let (old, new) = (try await classChat("teacher5"), try await classChat("teacher6"))
            try await api.client.ws("/v1/ws", configuration: Self.configuration(token: school.token("student1"))) { inbound, _, _ in
                var frames = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                _ = try await Self.next("ready", from: &frames)
                // Moved to 6Б while connected: 5А's chat stops flowing, 6Б's starts.
                try await expect(
                    api.call(
                        .patch, "/v1/people/\(school.id("student1"))", token: school.token("schoolAdmin"), json: ["classId": school.id("class6")]),
                    .ok)
                for (teacher, chat, text) in [("teacher5", old, "for 5А"), ("teacher6", new, "for 6Б")] {
                    try await api.client.ws("/v1/ws", configuration: Self.configuration(token: school.token(teacher))) { inbound, outbound, _ in
                        var own = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                        _ = try await Self.next("ready", from: &own)
                        try await outbound.write(.text(#"{"type":"send","chat":"\#(chat)","cid":"m","text":"\#(text)"}"#))
                        _ = try await Self.next("ack", from: &own)
                    }
                }
                let message = try await Self.next("msg", from: &frames)
                #expect(message["chat"] as? String == new)
                #expect(message["text"] as? String == "for 6Б")
            }
        }
    }

    @Test func aFrameOver64KiBClosesWith1009() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let close = try await api.client.ws("/v1/ws", configuration: Self.configuration(token: school.token("student1"))) {
                inbound, outbound, _ in
                var frames = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                _ = try await Self.next("ready", from: &frames)
                try await outbound.write(.text(String(repeating: "x", count: 70 << 10)))
                while try await frames.next() != nil {}
            }
            #expect(close?.closeCode == .messageTooLarge)
        }
    }

    @Test func anUpgradeWithoutATokenIsRefused() async throws {
        try await withTestServer { api in
            let upgraded = try? await api.client.ws("/v1/ws") { _, _, _ in }
            #expect(upgraded == nil)
            try await expect(api.get("/v1/ws", token: nil), .unauthorized)
        }
    }

    /// A refused upgrade is answered with its own status and the contract's error body, on a connection of its own.
    @Test func aRefusedUpgradeGetsItsStatusAndTheErrorBody() async throws {
        try await withTestServer(configure: { $0.maximumConnectionsPerPerson = 1 }) { api in
            let school = try await SchoolFixture.build(api)
            let anonymous = try await Self.upgrade(api, token: nil)
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.errorCode == "unauthenticated")
            #expect(try await Self.upgrade(api, token: "zv_forged").status == .unauthorized)
            try await withSocket(api, token: school.token("student1")) { _, _ in
                let beyond = try await Self.upgrade(api, token: school.token("student1"))
                #expect(beyond.status == .tooManyRequests)
                #expect(beyond.errorCode == "rate_limited")
            }
            let elsewhere = try await Self.upgrade(api, path: "/health", token: api.ministryToken)
            #expect(elsewhere.status == .badRequest)
            #expect(elsewhere.errorCode == "invalid_argument")
        }
    }

    /// Asks for the WebSocket upgrade as a browser would, and reads the HTTP answer.
    private static func upgrade(
        _ api: APIClient, path: String = "/v1/ws", token: String?
    ) async throws -> (status: HTTPResponseStatus, errorCode: String?) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(api.client.port ?? 0)\(path)")
        request.headers = [
            "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        ]
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 16)
        let json = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
        return (response.status, (json?["error"] as? [String: Any])?["code"] as? String)
    }

    @Test func aPlainGetWithoutTheUpgradeIsABadRequest() async throws {
        try await withTestServer { api in
            let answer = try await expect(api.get("/v1/ws", token: api.ministryToken), .badRequest)
            #expect(answer.errorCode == "invalid_argument")
        }
    }
}

/// Frames handed out of the WebSocket handlers.
final class LockedFrames: Sendable {
    final class Holder: @unchecked Sendable {
        private let lock = NSLock()
        private var value: [String: Any] = [:]
        func set(_ frame: [String: Any]) { lock.withLock { value = frame } }
        var frame: [String: Any] { lock.withLock { value } }
    }
    let student1 = Holder()
    let student3 = Holder()
}
