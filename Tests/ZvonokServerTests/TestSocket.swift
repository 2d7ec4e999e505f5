import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import HummingbirdWSTesting
import NIOWebSocket
import Synchronization
import WSClient
import ZvonokCore

/// One JSON frame from the hub.
struct Frame: @unchecked Sendable {
    let json: [String: Any]

    subscript(_ key: String) -> Any? { json[key] }
    var type: String? { json["type"] as? String }
    var seq: Int? { json["seq"] as? Int }
    var chat: String? { json["chat"] as? String }
}

/// A WebSocket client of the hub for tests: every frame in arrival order, sends, and reads bounded by the socket's
/// life (a read after the server closed fails the test instead of hanging).
///
/// Unchecked: one test task reads a socket at a time, by construction of the tests.
final class TestSocket: @unchecked Sendable {
    private let outbound: WebSocketOutboundWriter
    private var frames: AsyncStream<Frame>.AsyncIterator

    fileprivate init(outbound: WebSocketOutboundWriter, frames: AsyncStream<Frame>) {
        self.outbound = outbound
        self.frames = frames.makeAsyncIterator()
    }

    func send(_ json: [String: Any]) async throws {
        let data = try JSONSerialization.data(withJSONObject: json)
        try await outbound.write(.text(String(decoding: data, as: UTF8.self)))
    }

    /// The answers to `count` sends, by `cid` (by `ref` for errors): "ack", or the error's code.
    func answers(_ count: Int) async throws -> [String: String] {
        var answers: [String: String] = [:]
        while answers.count < count {
            let frame = try await next()
            if frame.type == "ack" { answers[frame["cid"] as! String] = "ack" }
            if frame.type == "error" { answers[frame["ref"] as! String] = frame["code"] as? String }
        }
        return answers
    }

    func send(_ text: String) async throws {
        try await outbound.write(.text(text))
    }

    /// Writes one raw WebSocket frame (binary, fragments, invalid UTF-8: what a well-behaved client never sends).
    func send(raw frame: WebSocketFrame) async throws {
        try await outbound.write(.custom(frame))
    }

    /// The next frame of any type, within 30 seconds (a missing frame fails the test rather than hang it).
    func next() async throws -> Frame {
        let frame = try await withTimeout(.seconds(30)) { await self.nextFrame() }
        guard let frame else { throw TestFailure("the connection ended") }
        return frame
    }

    private func nextFrame() async -> Frame? {
        await frames.next()
    }

    /// The next frame of `type`, skipping others.
    func next(_ type: String) async throws -> Frame {
        while true {
            let frame = try await next()
            if frame.type == type { return frame }
        }
    }

    /// The frames that come before the next one of type `end` (which is taken too).
    func frames(until end: String) async throws -> [Frame] {
        var frames: [Frame] = []
        while true {
            let frame = try await next()
            if frame.type == end { return frames }
            frames.append(frame)
        }
    }

    /// The next `count` frames of `type` about `chat`, skipping others.
    func collect(_ count: Int, _ type: String, in chat: String) async throws -> [Frame] {
        var collected: [Frame] = []
        while collected.count < count {
            let frame = try await next()
            if frame.type == type, frame.chat == chat { collected.append(frame) }
        }
        return collected
    }
}

/// Opens the hub as `token`, waits for `ready`, runs `body`, then closes; returns what `body` returned and how
/// the server closed the connection.
@discardableResult
func withSocket<Result: Sendable>(
    _ api: APIClient, token: String, _ body: @escaping @Sendable (TestSocket, Frame) async throws -> Result
) async throws -> (result: Result, close: WebSocketCloseFrame?) {
    let (stream, continuation) = AsyncStream.makeStream(of: Frame.self)
    let result = ResultBox<Result>()
    let configuration = WebSocketClientConfiguration(additionalHeaders: [.authorization: "Bearer \(token)"])
    let close = try await api.client.ws("/v1/ws", configuration: configuration) { inbound, outbound, _ in
        let socket = TestSocket(outbound: outbound, frames: stream)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Closing ends the read loop below, whether the body finished or failed.
                do {
                    let ready = try await socket.next("ready")
                    let value = try await body(socket, ready)
                    result.value.withLock { $0 = value }
                } catch {
                    try? await outbound.close(.normalClosure, reason: nil)
                    throw error
                }
                try await outbound.close(.normalClosure, reason: nil)
            }
            for try await message in inbound.messages(maxSize: 1 << 20) {
                guard case .text(let text) = message,
                    let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
                else { continue }
                continuation.yield(Frame(json: json))
            }
            continuation.finish()
            try await group.waitForAll()
        }
    }
    guard let value = result.value.withLock({ $0 }) else { throw TestFailure("the socket's body did not finish") }
    return (value, close)
}

private final class ResultBox<Value: Sendable>: Sendable {
    let value = Mutex<Value?>(nil)
}

/// Lets concurrent test clients wait for each other (all connected before any sends, say).
actor TestBarrier {
    private let parties: Int
    private var arrived = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(parties: Int) {
        self.parties = parties
    }

    func arriveAndWait() async {
        arrived += 1
        if arrived == parties {
            waiting.forEach { $0.resume() }
            waiting.removeAll()
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }
}
