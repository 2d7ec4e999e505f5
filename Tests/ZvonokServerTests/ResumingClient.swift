import Foundation
import Hummingbird
import HummingbirdWSClient
import Logging
import Synchronization
import WSClient

/// A chat member that posts at a steady pace and, whenever its connection breaks, reconnects, resends what was not
/// acknowledged (same cids) and `sync`s from the last message it holds — what a real client does. It records every
/// breach of the hub's promises it sees: a duplicate, a gap outside a sync, a cid acknowledged with two seqs.
final class ResumingClient: Sendable {
    let name: String
    private let token: String
    private let chat: String
    private let target: Int
    private let interval: Duration
    private let state = Mutex(State())

    struct State {
        /// The last seq delivered in order; every message up to it was taken exactly once.
        var lastSeq = 0
        /// A resuming `sync` runs: messages out of line are expected (see `take`).
        var syncing = false
        var created = 0
        var unacked: [Int: String] = [:]
        var retries: [Int] = []
        var acked: [String: Int] = [:]
        var violations: [String] = []
        var connections = 0
        /// Messages sent again after a reconnect because their ack never came.
        var resent = 0
        var trace: [String] = []
    }

    init(name: String, token: String, chat: String, target: Int, interval: Duration) {
        self.name = name
        self.token = token
        self.chat = chat
        self.target = target
        self.interval = interval
    }

    var snapshot: State { state.withLock { $0 } }

    /// Everything posted and acknowledged, and every message of the chat up to `total` received.
    func isDone(total: Int) -> Bool {
        state.withLock { $0.created == target && $0.unacked.isEmpty && $0.lastSeq == total }
    }

    func text(_ index: Int) -> String { "\(name) #\(index)" }

    /// Connects, and reconnects after every break, until cancelled. An attempt that gets no `ready` within ten
    /// seconds is abandoned, as a real client's connect timeout would: the WebSocket client can wait forever for an
    /// upgrade whose server was killed half-way.
    func run(port: Int) async {
        var logger = Logger(label: "zvonok.test-client")
        logger.logLevel = .critical
        let configuration = WebSocketClientConfiguration(additionalHeaders: [.authorization: "Bearer \(token)"])
        while !Task.isCancelled {
            let readyBefore = state.withLock { $0.connections }
            let attempt = Task {
                try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/v1/ws", configuration: configuration, logger: logger) {
                    inbound, outbound, _ in
                    try await self.converse(inbound, outbound)
                }
            }
            let watchdog = Task {
                try await Task.sleep(for: .seconds(10))
                if self.state.withLock({ $0.connections }) == readyBefore { attempt.cancel() }
            }
            let outcome = await withTaskCancellationHandler {
                await attempt.result
            } onCancel: {
                attempt.cancel()
            }
            watchdog.cancel()
            state.withLock { state in
                if case .failure(let error) = outcome {
                    state.trace.append("connection failed: \(error)")
                } else {
                    state.trace.append("connection ended")
                }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    private func converse(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter) async throws {
        var frames = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
        guard try await frames.next() != nil else { return }  // ready
        let (after, resend) = state.withLock { state in
            state.connections += 1
            state.syncing = true
            state.retries = []
            state.resent += state.unacked.count
            return (state.lastSeq, state.unacked.keys.sorted())
        }
        state.withLock { $0.trace.append("connect, sync after \(after), resend \(resend)") }
        try await write(["type": "sync", "chat": chat, "after": after], outbound)
        for index in resend { try await write(sendFrame(index), outbound) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.post(outbound) }
            while let message = try await frames.next() {
                guard case .text(let text) = message,
                    let frame = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
                else { continue }
                take(frame)
            }
            group.cancelAll()
        }
    }

    /// New messages at the steady pace, and resends of refused ones, until cancelled.
    private func post(_ outbound: WebSocketOutboundWriter) async throws {
        while true {
            let next = state.withLock { state -> Int? in
                if !state.retries.isEmpty { return state.retries.removeFirst() }
                guard state.created < target else { return nil }
                state.created += 1
                state.unacked[state.created] = text(state.created)
                return state.created
            }
            if let next { try await write(sendFrame(next), outbound) }
            try await Task.sleep(for: interval)
        }
    }

    private func take(_ frame: [String: Any]) {
        let type = frame["type"] as? String
        state.withLock { state in
            state.trace.append("\(state.connections):\(type ?? "?"):\(frame["seq"] ?? "-"):\(frame["cid"] ?? "")")
            switch type {
            case "msg" where frame["chat"] as? String == chat:
                guard let seq = frame["seq"] as? Int else { return }
                if seq == state.lastSeq + 1 {
                    state.lastSeq = seq
                } else if state.syncing {
                    // A sync sends every message after the `after` it was asked for, and live messages may have
                    // passed it before it began: a replay below `lastSeq` was asked for, a jump ahead is the sync's
                    // to fill.
                    return
                } else if seq <= state.lastSeq {
                    state.violations.append("\(name): \(seq) again after \(state.lastSeq)")
                } else {
                    state.violations.append("\(name): gap from \(state.lastSeq) to \(seq)")
                }
            case "synced" where frame["chat"] as? String == chat:
                state.syncing = false
                if let seq = frame["seq"] as? Int, seq > state.lastSeq {
                    state.violations.append("\(name): sync ended at \(seq), held \(state.lastSeq)")
                }
            case "ack":
                guard let cid = frame["cid"] as? String, let seq = frame["seq"] as? Int, let index = Self.index(cid) else { return }
                state.unacked[index] = nil
                if let earlier = state.acked[cid], earlier != seq { state.violations.append("\(name): \(cid) acked as \(earlier) and \(seq)") }
                state.acked[cid] = seq
            case "error":
                if let index = (frame["ref"] as? String).flatMap(Self.index), state.unacked[index] != nil { state.retries.append(index) }
            default:
                break
            }
        }
    }

    private func sendFrame(_ index: Int) -> [String: Any] {
        ["type": "send", "chat": chat, "cid": "\(name)-\(index)", "text": text(index)]
    }

    private static func index(_ cid: String) -> Int? {
        cid.split(separator: "-").last.flatMap { Int($0) }
    }

    private func write(_ frame: [String: Any], _ outbound: WebSocketOutboundWriter) async throws {
        let data = try JSONSerialization.data(withJSONObject: frame)
        try await outbound.write(.text(String(decoding: data, as: UTF8.self)))
    }
}
