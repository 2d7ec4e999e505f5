import DequeModule
import NIOCore
import NIOWebSocket
import Synchronization
import ZvonokCore

/// One WebSocket connection as the fan-out core's sink: a bounded outbound queue filled from any thread, drained in
/// bursts on the connection's own event loop — all frames of a burst written with one flush, so several pending
/// frames share one `write()` to the socket; a fan-out's drains are gathered per event loop (`EventLoopDrains`), so
/// the loop is woken once for all of them. No Swift task is woken on this path: at ten thousand connections a task
/// hop per burst queued the group commit behind the writers on the two-thread cooperative pool. The next burst starts
/// when the socket has taken the last one, so a reader that stops reading backs the queue up (and is closed with
/// 4008) instead of the channel's buffer growing. Closing is done on the event loop too: the close frame follows the
/// last burst (or goes at once when the connection is dropped), and the socket is closed when the client answers it
/// or after `closeGrace`.
///
/// Live chat frames pass a `ResumeGate` first, so that a `sync` joins the live stream without gap or duplicate.
/// Every frame the hub writes but the close frame goes through the queue and its bounds, the answers to the client's
/// WebSocket pings among them: a client that pings and never reads is closed with 4008 like any slow reader.
final class HubConnection: FrameSink, Sendable {
    let personID: Int64
    /// The token the connection was opened with: revoking it closes the connection (4001).
    let tokenID: Int64
    private let channel: any Channel
    /// Where this connection's drains are scheduled: with the other connections of its event loop.
    private let drains: EventLoopDrains
    private let outbox: Mutex<Outbox>
    /// How long a closing connection has to take its last frames and the close frame.
    private let closeGrace: Duration

    /// Bounds of the outbound queue: a reader further behind than this is closed with 4008.
    static let maximumFrames = 4096
    static let maximumBytes = 4 << 20

    private struct Outbox {
        var queue = OutboundQueue<WebSocketFrame>(maximumFrames: HubConnection.maximumFrames, maximumBytes: HubConnection.maximumBytes)
        var gate = ResumeGate<ByteBuffer>(maximumHeld: HubConnection.maximumFrames)
        /// A `sync` waiting for the queue to drain before it reads the next batch.
        var roomWaiter: CheckedContinuation<Void, Never>?
        /// Set once the connection is to be closed; the writer closes with it.
        var closeCode: WebSocketErrorCode?
        /// The close frame went out (ours, or our answer to the client's).
        var closeSent = false
        /// Registered with the hub, so it is to be unregistered when the connection ends.
        var registered = false
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
        mutating func enqueue(frames: some Sequence<WebSocketFrame>) -> OutboundQueue<WebSocketFrame>.EnqueueAction {
            var action = OutboundQueue<WebSocketFrame>.EnqueueAction.none
            for frame in frames {
                switch queue.enqueue(frame, bytes: frame.length) {
                case .overflow: action = .overflow
                case .scheduleDrain where action == .none: action = .scheduleDrain
                default: break
                }
            }
            return action
        }

        /// Queues JSON text frames in order (see `enqueue(frames:)`).
        mutating func enqueue(_ texts: some Sequence<ByteBuffer>) -> OutboundQueue<WebSocketFrame>.EnqueueAction {
            enqueue(frames: texts.lazy.map { WebSocketFrame(fin: true, opcode: .text, data: $0) })
        }

        mutating func takeRoomWaiter() -> CheckedContinuation<Void, Never>? {
            defer { roomWaiter = nil }
            return roomWaiter
        }
    }

    init(personID: Int64, tokenID: Int64, channel: any Channel, drains: EventLoopDrains, closeGrace: Duration) {
        precondition(drains.eventLoop === channel.eventLoop, "a connection drains on its own event loop")
        self.personID = personID
        self.tokenID = tokenID
        self.channel = channel
        self.drains = drains
        self.closeGrace = closeGrace
        self.outbox = Mutex(Outbox())
    }

    // MARK: Filling the queue

    /// A live frame of one of the person's chats, from the fan-out.
    func enqueue(_ frame: HubFrames.ChatFrame) {
        let action = outbox.withLock { outbox -> OutboundQueue<WebSocketFrame>.EnqueueAction in
            if !outbox.gate.isOpen {
                switch outbox.gate.admit(frame.bytes, chat: frame.chat, seq: frame.seq) {
                case .deliver: break
                case .held, .drop: return .none
                case .overflow: return .overflow
                }
            }
            return outbox.enqueue(CollectionOfOne(frame.bytes))
        }
        act(on: action)
    }

    /// Sends `ready` ahead of everything queued since the connection was registered, and starts writing.
    func start(with ready: ByteBuffer) {
        let action = outbox.withLock { outbox in
            var early = Deque<WebSocketFrame>()
            outbox.queue.drain(into: &early)
            outbox.started = true
            return outbox.enqueue(frames: [WebSocketFrame(fin: true, opcode: .text, data: ready)] + early)
        }
        act(on: action)
    }

    /// A frame for this connection alone (an answer, a synced message), past the gate.
    func send(_ bytes: ByteBuffer) {
        act(on: outbox.withLock { $0.enqueue(CollectionOfOne(bytes)) })
    }

    /// The answer to the client's WebSocket ping, queued behind what is already waiting.
    func sendPong(_ payload: ByteBuffer) {
        act(on: outbox.withLock { $0.enqueue(frames: CollectionOfOne(WebSocketFrame(fin: true, opcode: .pong, data: payload))) })
    }

    private func act(on action: OutboundQueue<WebSocketFrame>.EnqueueAction) {
        switch action {
        case .scheduleDrain: drains.schedule(self)
        case .overflow: close(HubCloseCode.tooSlow)
        case .none: break
        }
    }

    /// On the event loop: writes what is queued as one burst, unless one is still on its way.
    func drain() {
        var burst = Deque<WebSocketFrame>()
        let waiter = outbox.withLock { outbox -> CheckedContinuation<Void, Never>? in
            guard outbox.started, !outbox.writing, !outbox.closeSent, outbox.closeCode.map({ Self.writesQueue(before: $0) }) ?? true else {
                return nil
            }
            outbox.queue.drain(into: &burst)
            outbox.writing = !burst.isEmpty
            return outbox.takeRoomWaiter()
        }
        waiter?.resume()
        guard !burst.isEmpty else { return }
        let written = channel.eventLoop.makePromise(of: Void.self)
        for (index, frame) in burst.enumerated() {
            channel.write(frame, promise: index == burst.count - 1 ? written : nil)
        }
        channel.flush()
        written.futureResult.whenComplete { result in
            let (more, closing) = self.outbox.withLock { outbox in
                outbox.writing = false
                return (outbox.queue.count > 0, outbox.closeCode != nil)
            }
            guard case .success = result else { return }
            if more { self.drain() } else if closing { self.closeIfWritten() }
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

    // MARK: Closing

    /// Closes the connection with `code`: on shutdown (1001) after writing what is queued, at once otherwise (4008,
    /// protocol errors; what is queued is dropped). A client that does not take the close frame and answer it is
    /// cut off `closeGrace` after the close began.
    func close(_ code: WebSocketErrorCode) {
        guard beginClosing(code) else { return }
        let channel = self.channel
        channel.eventLoop.execute { self.closeIfWritten() }
        channel.eventLoop.scheduleTask(in: TimeAmount(closeGrace)) { channel.close(promise: nil) }
    }

    /// The client sent its close frame: ours answers it, unless it was sent already, and the socket is closed.
    func answerClose(_ code: WebSocketErrorCode) {
        beginClosing(code)
        let channel = self.channel
        guard let sent = writeCloseFrame(code) else { return channel.close(promise: nil) }
        sent.whenComplete { _ in channel.close(promise: nil) }
    }

    /// Records the close code, unless a close began already or the connection is gone (false then), and releases a
    /// waiting sync.
    @discardableResult
    private func beginClosing(_ code: WebSocketErrorCode) -> Bool {
        let (waiter, first) = outbox.withLock { outbox in
            let first = outbox.closeCode == nil && !outbox.ended
            if first { outbox.closeCode = code }
            return (outbox.takeRoomWaiter(), first)
        }
        waiter?.resume()
        return first
    }

    /// Whether queued frames still go out before the close frame.
    private static func writesQueue(before code: WebSocketErrorCode) -> Bool {
        code == .goingAway
    }

    /// On the event loop: writes the close frame once the queue is written, if a close is due.
    private func closeIfWritten() {
        let due = outbox.withLock { outbox -> WebSocketErrorCode? in
            guard let code = outbox.closeCode else { return nil }
            let pending = outbox.started && (outbox.queue.count > 0 || outbox.writing)
            return Self.writesQueue(before: code) && pending ? nil : code
        }
        if let due { _ = writeCloseFrame(due) }
    }

    /// Writes the close frame unless one went out already; nil when one had.
    private func writeCloseFrame(_ code: WebSocketErrorCode) -> EventLoopFuture<Void>? {
        let first = outbox.withLock { outbox in
            defer { outbox.closeSent = true }
            return !outbox.closeSent
        }
        guard first else { return nil }
        var data = channel.allocator.buffer(capacity: 64)
        data.write(webSocketErrorCode: code)
        if let reason = HubCloseCode.reason(for: code) { data.writeString(reason) }
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: data), promise: written)
        return written.futureResult
    }

    // MARK: Registration

    /// Marks the connection registered with the hub; false when it ended meanwhile (the caller unregisters it).
    func register() -> Bool {
        outbox.withLock { outbox in
            outbox.registered = !outbox.ended
            return outbox.registered
        }
    }

    /// The connection is gone: releases a waiting sync; true when it was registered (the caller unregisters it).
    func finish() -> Bool {
        let (waiter, registered) = outbox.withLock { outbox in
            outbox.ended = true
            defer { outbox.registered = false }
            return (outbox.takeRoomWaiter(), outbox.registered)
        }
        waiter?.resume()
        return registered
    }
}
