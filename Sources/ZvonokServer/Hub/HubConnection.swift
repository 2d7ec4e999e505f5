import DequeModule
import NIOCore
import NIOWebSocket
import Synchronization
import WSCore
import ZvonokCore

/// One WebSocket connection as the fan-out core's sink: a bounded outbound queue filled from any thread, drained in
/// bursts on the connection's own event loop — all frames of a burst written with one flush, so several pending
/// frames share one `write()` to the socket. No task is woken on this path: at ten thousand connections a task hop
/// per burst queued the group commit behind the writers on the two-thread cooperative pool. The next burst starts
/// when the socket has taken the last one, so a reader that stops reading backs the queue up (and is closed with
/// 4008) instead of the channel's buffer growing. A close is carried out by a task started for it: an idle
/// connection holds no task of its own besides the one reading its frames.
///
/// Live chat frames pass a `ResumeGate` first, so that a `sync` joins the live stream without gap or duplicate.
final class HubConnection: FrameSink, Sendable {
    let personID: Int64
    private let channel: any Channel
    private let outbound: WebSocketOutboundWriter
    private let outbox: Mutex<Outbox>
    /// How long a closing connection has to take its last frames and the close frame.
    private let closeGrace: Duration

    /// Bounds of the outbound queue: a reader further behind than this is closed with 4008.
    static let maximumFrames = 4096
    static let maximumBytes = 4 << 20

    private struct Outbox {
        var queue = OutboundQueue<ByteBuffer>(maximumFrames: HubConnection.maximumFrames, maximumBytes: HubConnection.maximumBytes)
        var gate = ResumeGate<ByteBuffer>(maximumHeld: HubConnection.maximumFrames)
        /// A `sync` waiting for the queue to drain before it reads the next batch.
        var roomWaiter: CheckedContinuation<Void, Never>?
        /// Set once the connection is to be closed; the writer closes with it.
        var closeCode: WebSocketErrorCode?
        /// The connection is gone.
        var ended = false
        /// A burst is on its way to the socket; the next waits for it.
        var writing = false
        /// `ready` went out: nothing is written before it, though live frames may queue from registration on.
        var started = false

        var hasRoom: Bool {
            queue.count <= HubConnection.maximumFrames / 2 && queue.byteCount <= HubConnection.maximumBytes / 2
        }

        /// Queues frames in order; the action for them all: overflow if any overflowed, else a drain if one is due.
        mutating func enqueue(_ frames: some Sequence<ByteBuffer>) -> OutboundQueue<ByteBuffer>.EnqueueAction {
            var action = OutboundQueue<ByteBuffer>.EnqueueAction.none
            for frame in frames {
                switch queue.enqueue(frame, bytes: frame.readableBytes) {
                case .overflow: action = .overflow
                case .scheduleDrain where action == .none: action = .scheduleDrain
                default: break
                }
            }
            return action
        }

        mutating func takeRoomWaiter() -> CheckedContinuation<Void, Never>? {
            defer { roomWaiter = nil }
            return roomWaiter
        }
    }

    init(personID: Int64, channel: any Channel, outbound: WebSocketOutboundWriter, closeGrace: Duration) {
        self.personID = personID
        self.channel = channel
        self.outbound = outbound
        self.closeGrace = closeGrace
        self.outbox = Mutex(Outbox())
    }

    // MARK: Filling the queue

    /// A live frame of one of the person's chats, from the fan-out.
    func enqueue(_ frame: HubFrames.ChatFrame) {
        let action = outbox.withLock { outbox -> OutboundQueue<ByteBuffer>.EnqueueAction in
            if !outbox.gate.isOpen {
                switch outbox.gate.admit(frame.bytes, chat: frame.chat, seq: frame.seq) {
                case .deliver: break
                case .held, .drop: return .none
                case .overflow: return .overflow
                }
            }
            return outbox.queue.enqueue(frame.bytes, bytes: frame.bytes.readableBytes)
        }
        act(on: action)
    }

    /// Sends `ready` ahead of everything queued since the connection was registered, and starts writing.
    func start(with ready: ByteBuffer) {
        let action = outbox.withLock { outbox in
            var early = Deque<ByteBuffer>()
            outbox.queue.drain(into: &early)
            outbox.started = true
            return outbox.enqueue([ready] + early)
        }
        act(on: action)
    }

    /// A frame for this connection alone (an answer, a synced message), past the gate.
    func send(_ bytes: ByteBuffer) {
        act(on: outbox.withLock { $0.enqueue(CollectionOfOne(bytes)) })
    }

    private func act(on action: OutboundQueue<ByteBuffer>.EnqueueAction) {
        switch action {
        case .scheduleDrain:
            let channel = self.channel
            channel.eventLoop.execute { self.drain() }
        case .overflow: close(.unknown(4008))
        case .none: break
        }
    }

    /// On the event loop: writes what is queued as one burst, unless one is still on its way.
    private func drain() {
        var burst = Deque<ByteBuffer>()
        let waiter = outbox.withLock { outbox -> CheckedContinuation<Void, Never>? in
            guard outbox.started, !outbox.writing, outbox.closeCode != .unknown(4008) else { return nil }
            outbox.queue.drain(into: &burst)
            outbox.writing = !burst.isEmpty
            return outbox.takeRoomWaiter()
        }
        waiter?.resume()
        guard !burst.isEmpty else { return }
        let written = channel.eventLoop.makePromise(of: Void.self)
        for (index, bytes) in burst.enumerated() {
            channel.write(WebSocketFrame(fin: true, opcode: .text, data: bytes), promise: index == burst.count - 1 ? written : nil)
        }
        channel.flush()
        written.futureResult.whenComplete { result in
            let more = self.outbox.withLock { outbox in
                outbox.writing = false
                return outbox.queue.count > 0
            }
            if case .success = result, more { self.drain() }
        }
    }

    // MARK: Sync

    /// Starts holding the chat's live frames for a sync; false when a sync of the chat is already running.
    func beginSync(of chat: Int64) -> Bool {
        outbox.withLock { $0.gate.begin(chat) }
    }

    /// Ends a sync whose history went out up to `last`: `synced`, then the live frames held meanwhile, at once.
    func finishSync(of chat: Int64, through last: Int64, synced: ByteBuffer) {
        let action = outbox.withLock { outbox in
            let held = outbox.gate.finish(chat, through: last)
            return outbox.enqueue([synced] + held)
        }
        act(on: action)
    }

    /// Abandons a sync that failed: the held live frames go out as they are.
    func cancelSync(of chat: Int64) {
        act(on: outbox.withLock { outbox in
            let held = outbox.gate.cancel(chat)
            return outbox.enqueue(held)
        })
    }

    /// Returns once the queue is at most half full (or the connection is closing), so that a sync reads history
    /// only as fast as the client takes it.
    func waitForRoom() async {
        await withCheckedContinuation { continuation in
            let ready = outbox.withLock { outbox in
                guard !outbox.hasRoom, outbox.closeCode == nil, !outbox.ended else { return true }
                outbox.roomWaiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    var isClosing: Bool { outbox.withLock { $0.closeCode != nil || $0.ended } }

    // MARK: Writing

    /// Closes the connection with `code`: at once for 4008 (what is queued is dropped), after writing what is
    /// queued otherwise (1001 on shutdown).
    func close(_ code: WebSocketErrorCode) {
        let (waiter, first) = outbox.withLock { outbox in
            let first = outbox.closeCode == nil && !outbox.ended
            if outbox.closeCode == nil { outbox.closeCode = code }
            return (outbox.takeRoomWaiter(), first)
        }
        waiter?.resume()
        // A task for the close alone, once: a closer task waiting on every idle connection cost 1.9 KiB of each.
        if first { Task { try? await self.carryOutClose(code) } }
    }

    /// Writes what is queued (unless too slow), then the close frame. A client that does not take the close frame
    /// is cut off after `closeGrace`.
    private func carryOutClose(_ code: WebSocketErrorCode) async throws {
        if code != .unknown(4008) { await waitUntilWritten() }
        let channel = self.channel
        channel.eventLoop.scheduleTask(in: TimeAmount(closeGrace)) { channel.close(promise: nil) }
        try await outbound.close(code, reason: Self.reason(for: code))
    }

    /// Waits (up to the close grace) until every queued frame went to the socket or the connection ended.
    private func waitUntilWritten() async {
        let deadline = ContinuousClock.now + closeGrace
        while outbox.withLock({ !$0.ended && ($0.queue.count > 0 || $0.writing) }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    private static func reason(for code: WebSocketErrorCode) -> String? {
        switch code {
        case .goingAway: "server shutting down; reconnect and sync"
        case .unknown(4008): "too slow; reconnect and sync"
        default: nil
        }
    }

    /// Releases a waiting sync; the connection is gone.
    func finish() {
        let waiter = outbox.withLock { outbox in
            outbox.ended = true
            return outbox.takeRoomWaiter()
        }
        waiter?.resume()
    }
}
