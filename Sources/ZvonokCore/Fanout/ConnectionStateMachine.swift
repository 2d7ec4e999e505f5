public import DequeModule

/// One connection's lifecycle as a plain value: events in, actions out, no I/O (in SwiftNIO's style).
///
/// The server keeps one per connection under a lock, feeds it what happens — frames to send, `ready`, bursts written
/// or failed, a close asked for or received, the connection registered or gone — and carries out the action each
/// event returns on the connection's channel, after unlocking. It holds the bounded `OutboundQueue` and the
/// `ResumeGate` the connection needs, so that one lock covers them all.
///
/// The lifecycle: *opening* (frames queue, none is written until `ready` goes out first) → *open* (queued frames are
/// written in bursts, one at a time) → *close frame sent* → *ended*. A close may be asked for in any phase before the
/// last two: with `afterQueued` (a shutdown) the queue is written before the close frame, otherwise (a slow reader, a
/// revoked session) what is queued is dropped and the close frame goes at once. A connection that overflows its queue
/// asks for its own close with `slowConsumerCode`.
///
/// The per-frame events are `@inlinable`, so that the server's copy is specialized for its frame type.
///
/// `Waiter` is what a `sync` leaves while it waits for the queue to empty (a continuation in the server).
public struct ConnectionStateMachine<Frame, CloseCode: Equatable, Waiter> {
    /// What the connection must do after an event.
    public enum Action {
        /// Nothing to do.
        case none
        /// Frames were queued: drain the queue on the connection's event loop soon.
        case scheduleDrain
        /// A burst was written and more is queued: drain again now.
        case drainAgain
        /// A close began: resume the waiter, see on the event loop whether the close frame is due
        /// (`closeFrameIfDue`), and cut the socket off if the client has not answered within the grace.
        case startClosing(resuming: Waiter?)
        /// Write the close frame with this code.
        case writeCloseFrame(CloseCode)
        /// The client closed: resume the waiter, answer with a close frame of this code, then close the socket.
        case answerClose(CloseCode, resuming: Waiter?)
        /// The client closed and our close frame went out already: resume the waiter and close the socket.
        case closeSocket(resuming: Waiter?)
        /// Resume the waiting `sync`.
        case resume(Waiter)
    }

    /// What the connection must do when it is gone.
    public struct EndAction {
        /// The waiting `sync`, to resume.
        public var resuming: Waiter?
        /// The connection was registered with the hub, so it is to be unregistered.
        public var unregister: Bool
    }

    @usableFromInline enum Phase: Equatable {
        /// `ready` has not gone out: frames queue, none is written.
        case opening
        /// `ready` went out: queued frames are written in bursts.
        case open
        /// The close frame went out (ours, or our answer to the client's): nothing more is written.
        case closeSent
        /// The connection is gone.
        case ended
    }

    /// A close asked for: its code, and whether the queue is written before the close frame.
    @usableFromInline struct Close {
        @usableFromInline var code: CloseCode
        @usableFromInline var afterQueued: Bool
    }

    @usableFromInline var phase = Phase.opening
    @usableFromInline var close: Close?
    /// Registered with the hub, so it is to be unregistered when the connection ends.
    private var isRegistered = false
    /// A burst is on its way to the socket; the next waits for it.
    @usableFromInline var writing = false
    @usableFromInline var queue: OutboundQueue<Frame>
    @usableFromInline var gate: ResumeGate<Frame>
    /// A `sync` waiting for the queue to drain before it reads the next batch.
    @usableFromInline var roomWaiter: Waiter?
    @usableFromInline let slowConsumerCode: CloseCode
    /// The bytes a frame holds in the queue.
    @usableFromInline let byteCount: (Frame) -> Int

    /// A connection whose queue holds at most `maximumFrames` frames and `maximumBytes` bytes, as `byteCount` counts
    /// them, and that closes with `slowConsumerCode` past either.
    public init(maximumFrames: Int, maximumBytes: Int, slowConsumerCode: CloseCode, byteCount: @escaping (Frame) -> Int) {
        queue = OutboundQueue(maximumFrames: maximumFrames, maximumBytes: maximumBytes)
        gate = ResumeGate(maximumHeld: maximumFrames)
        self.slowConsumerCode = slowConsumerCode
        self.byteCount = byteCount
    }

    /// A close was asked for, or the connection is gone.
    public var isClosing: Bool { close != nil || phase == .ended }

    private var hasRoom: Bool {
        queue.count <= queue.maximumFrames / 2 && queue.byteCount <= queue.maximumBytes / 2
    }

    // MARK: Frames in

    /// A live frame of `chat` from the fan-out (`seq` 0 for events); it passes the resume gate first.
    @inlinable
    public mutating func liveFrameArrived(_ frame: Frame, chat: Int64, seq: Int64) -> Action {
        if !gate.isOpen {
            switch gate.admit(frame, chat: chat, seq: seq) {
            case .deliver: break
            case .held, .drop: return .none
            case .overflow: return closeRequested(slowConsumerCode, afterQueued: false)
            }
        }
        return send(CollectionOfOne(frame))
    }

    /// Frames for this connection alone (answers, synced messages, pongs), queued in order past the gate.
    @inlinable
    public mutating func send(_ frames: some Sequence<Frame>) -> Action {
        guard phase != .ended else { return .none }
        var overflowed = false, drainDue = false
        for frame in frames {
            switch queue.enqueue(frame, bytes: byteCount(frame)) {
            case .overflow: overflowed = true
            case .scheduleDrain: drainDue = true
            case .none: break
            }
        }
        if overflowed { return closeRequested(slowConsumerCode, afterQueued: false) }
        return drainDue ? .scheduleDrain : .none
    }

    /// `ready` is to go out, ahead of everything queued since registration; writing starts.
    public mutating func started(with ready: Frame) -> Action {
        var early = Deque<Frame>()
        queue.drain(into: &early)
        if phase == .opening { phase = .open }
        return send(CollectionOfOne(ready) + early)
    }

    // MARK: Sync

    /// Starts holding the chat's live frames for a sync; false when a sync of the chat is already running.
    public mutating func syncBegan(of chat: Int64) -> Bool {
        gate.begin(chat)
    }

    /// A sync sent its history up to `last`: `synced`, then the live frames held meanwhile, go out at once.
    public mutating func syncFinished(of chat: Int64, through last: Int64, synced: Frame) -> Action {
        send(CollectionOfOne(synced) + gate.finish(chat, through: last))
    }

    /// A sync failed: the live frames it held go out as they are.
    public mutating func syncCancelled(of chat: Int64) -> Action {
        send(gate.cancel(chat))
    }

    /// A sync waits until the queue is at most half full (or the connection is closing): `.resume` at once, or
    /// `.none` with the waiter kept until a drain makes room.
    public mutating func waitingForRoom(_ waiter: Waiter) -> Action {
        guard !hasRoom, !isClosing else { return .resume(waiter) }
        roomWaiter = waiter
        return .none
    }

    // MARK: Writing

    /// On the event loop: moves what is queued into `burst` (empty on entry) unless no burst may be written now —
    /// before `ready`, while one is on its way, after the close frame, or while closing without writing the queue.
    /// A non-empty `burst` is to be written with one flush, then `burstWritten` called; the action resumes a
    /// waiting sync.
    @inlinable
    public mutating func drain(into burst: inout Deque<Frame>) -> Action {
        guard phase == .open, !writing, close?.afterQueued ?? true else { return .none }
        queue.drain(into: &burst)
        writing = !burst.isEmpty
        return takeRoomWaiter().map(Action.resume) ?? .none
    }

    /// The burst reached the socket, or failed to (then nothing more follows it).
    @inlinable
    public mutating func burstWritten(succeeded: Bool) -> Action {
        writing = false
        guard succeeded else { return .none }
        return queue.count > 0 ? .drainAgain : closeFrameIfDue()
    }

    // MARK: Closing

    /// A close with `code` was asked for — the server's shutdown, a revoked session, a protocol error, an overflow;
    /// `afterQueued` writes the queue before the close frame. Only the first close counts.
    public mutating func closeRequested(_ code: CloseCode, afterQueued: Bool) -> Action {
        guard !isClosing else { return .none }
        close = Close(code: code, afterQueued: afterQueued)
        return .startClosing(resuming: takeRoomWaiter())
    }

    /// On the event loop, after a close began or a burst went out: the close frame, once nothing is to be written
    /// before it.
    public mutating func closeFrameIfDue() -> Action {
        guard let close, phase == .opening || phase == .open else { return .none }
        let pending = phase == .open && (queue.count > 0 || writing)
        guard !(close.afterQueued && pending) else { return .none }
        phase = .closeSent
        return .writeCloseFrame(close.code)
    }

    /// The client sent its close frame with `code`: ours answers it, unless it went out already, and the socket is
    /// closed.
    public mutating func clientClosed(_ code: CloseCode) -> Action {
        if !isClosing { close = Close(code: code, afterQueued: false) }
        let waiter = takeRoomWaiter()
        guard phase == .opening || phase == .open else { return .closeSocket(resuming: waiter) }
        phase = .closeSent
        return .answerClose(code, resuming: waiter)
    }

    // MARK: Registration

    /// The hub registered the connection; false when it ended meanwhile (then the caller unregisters it).
    public mutating func registeredWithHub() -> Bool {
        isRegistered = phase != .ended
        return isRegistered
    }

    /// The connection is gone: nothing more is written, a waiting sync is released, and a registered connection is
    /// to be unregistered.
    public mutating func ended() -> EndAction {
        defer { isRegistered = false }
        phase = .ended
        return EndAction(resuming: takeRoomWaiter(), unregister: isRegistered)
    }

    @usableFromInline mutating func takeRoomWaiter() -> Waiter? {
        defer { roomWaiter = nil }
        return roomWaiter
    }
}

extension ConnectionStateMachine.Action: Equatable where Waiter: Equatable {}
