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
/// What to do when — queue, write, close, unregister — is decided by a `ConnectionStateMachine` held under a lock;
/// this class only carries out the actions it returns, on the channel and its event loop.
///
/// Live chat frames pass a `ResumeGate` first, so that a `sync` joins the live stream without gap or duplicate.
/// Every frame the hub writes but the close frame goes through the queue and its bounds, the answers to the client's
/// WebSocket pings among them: a client that pings and never reads is closed with 4008 like any slow reader.
final class HubConnection: FrameSink, Sendable {
    private typealias StateMachine = ConnectionStateMachine<WireFrame, WebSocketErrorCode, CheckedContinuation<Void, Never>>

    let personID: Int64
    /// The token the connection was opened with: revoking it closes the connection (4001).
    let tokenID: Int64
    private let channel: any Channel
    /// Where frames already encoded (`WireFrame`) are written: the context of the channel's `WebSocketFrameEncoder`,
    /// whose writes go on towards the socket without being encoded again.
    private let wire: NIOLoopBound<ChannelHandlerContext>
    /// Where this connection's drains are scheduled: with the other connections of its event loop.
    private let drains: EventLoopDrains
    /// The lifecycle, the outbound queue and the resume gate; its actions are carried out after unlocking (`run`).
    private let state: Mutex<StateMachine>
    /// How long a closing connection has to take its last frames and the close frame.
    private let closeGrace: Duration

    /// Bounds of the outbound queue: a reader further behind than this is closed with 4008.
    static let maximumFrames = 4096
    static let maximumBytes = 4 << 20

    /// Made on the channel's event loop, once the WebSocket handlers are in its pipeline.
    init(personID: Int64, tokenID: Int64, channel: any Channel, drains: EventLoopDrains, closeGrace: Duration) throws {
        precondition(drains.eventLoop === channel.eventLoop, "a connection drains on its own event loop")
        self.personID = personID
        self.tokenID = tokenID
        self.channel = channel
        self.wire = NIOLoopBound(
            try channel.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self), eventLoop: channel.eventLoop)
        self.drains = drains
        self.closeGrace = closeGrace
        self.state = Mutex(
            StateMachine(
                maximumFrames: Self.maximumFrames, maximumBytes: Self.maximumBytes,
                slowConsumerCode: HubCloseCode.tooSlow, byteCount: { $0.bytes.readableBytes }))
    }

    // MARK: Filling the queue

    /// A live frame of one of the person's chats, from the fan-out.
    func enqueue(_ frame: HubFrames.ChatFrame) {
        run(state.withLock { $0.liveFrameArrived(frame.wire, chat: frame.chat, seq: frame.seq) })
    }

    /// Sends `ready` ahead of everything queued since the connection was registered, and starts writing.
    func start(with ready: ByteBuffer) {
        run(state.withLock { $0.started(with: .text(ready)) })
    }

    /// A frame for this connection alone (an answer, a synced message), past the gate.
    func send(_ bytes: ByteBuffer) {
        send(.text(bytes))
    }

    /// A frame already encoded for the socket (a synced message), for this connection alone.
    func send(_ frame: WireFrame) {
        run(state.withLock { $0.send(CollectionOfOne(frame)) })
    }

    /// The answer to the client's WebSocket ping, queued behind what is already waiting.
    func sendPong(_ payload: ByteBuffer) {
        send(WireFrame(.pong, payload: payload))
    }

    /// On the event loop: writes what is queued as one burst, unless one is still on its way.
    func drain() {
        var burst = Deque<WireFrame>()
        run(state.withLock { $0.drain(into: &burst) })
        guard !burst.isEmpty else { return }
        let written = channel.eventLoop.makePromise(of: Void.self)
        let wire = self.wire.value
        for (index, frame) in burst.enumerated() {
            wire.write(NIOAny(frame.bytes), promise: index == burst.count - 1 ? written : nil)
        }
        wire.flush()
        written.futureResult.whenComplete { result in
            let succeeded = if case .success = result { true } else { false }
            self.run(self.state.withLock { $0.burstWritten(succeeded: succeeded) })
        }
    }

    // MARK: Sync

    /// Starts holding the chat's live frames for a sync; false when a sync of the chat is already running.
    func beginSync(of chat: Int64) -> Bool {
        state.withLock { $0.syncBegan(of: chat) }
    }

    /// Ends a sync whose history went out up to `last`: `synced`, then the live frames held meanwhile, at once.
    func finishSync(of chat: Int64, through last: Int64, synced: ByteBuffer) {
        run(state.withLock { $0.syncFinished(of: chat, through: last, synced: .text(synced)) })
    }

    /// Abandons a sync that failed: the held live frames go out as they are.
    func cancelSync(of chat: Int64) {
        run(state.withLock { $0.syncCancelled(of: chat) })
    }

    /// Returns once the queue is at most half full (or the connection is closing), so that a sync reads history
    /// only as fast as the client takes it.
    func waitForRoom() async {
        await withCheckedContinuation { continuation in
            run(state.withLock { $0.waitingForRoom(continuation) })
        }
    }

    var isClosing: Bool { state.withLock { $0.isClosing } }

    // MARK: Closing

    /// Closes the connection with `code`: on shutdown (1001) after writing what is queued, at once otherwise (4008,
    /// protocol errors; what is queued is dropped). A client that does not take the close frame and answer it is
    /// cut off `closeGrace` after the close began.
    func close(_ code: WebSocketErrorCode) {
        run(state.withLock { $0.closeRequested(code, afterQueued: HubCloseCode.writesQueue(before: code)) })
    }

    /// The client sent its close frame: ours answers it, unless it was sent already, and the socket is closed.
    func answerClose(_ code: WebSocketErrorCode) {
        run(state.withLock { $0.clientClosed(code) })
    }

    // MARK: Registration

    /// Marks the connection registered with the hub; false when it ended meanwhile (the caller unregisters it).
    func register() -> Bool {
        state.withLock { $0.registeredWithHub() }
    }

    /// The connection is gone: releases a waiting sync; true when it was registered (the caller unregisters it).
    func finish() -> Bool {
        let action = state.withLock { $0.ended() }
        action.resuming?.resume()
        return action.unregister
    }

    // MARK: Carrying out actions

    /// Does what the state machine asked for, outside its lock.
    private func run(_ action: StateMachine.Action) {
        switch action {
        case .none:
            break
        case .scheduleDrain:
            drains.schedule(self)
        case .drainAgain:
            drain()
        case .startClosing(let waiter):
            waiter?.resume()
            let channel = self.channel
            channel.eventLoop.execute { self.run(self.state.withLock { $0.closeFrameIfDue() }) }
            channel.eventLoop.scheduleTask(in: TimeAmount(closeGrace)) { channel.close(promise: nil) }
        case .writeCloseFrame(let code):
            writeCloseFrame(code, promise: nil)
        case .answerClose(let code, let waiter):
            waiter?.resume()
            let channel = self.channel
            let written = channel.eventLoop.makePromise(of: Void.self)
            writeCloseFrame(code, promise: written)
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        case .closeSocket(let waiter):
            waiter?.resume()
            channel.close(promise: nil)
        case .resume(let waiter):
            waiter.resume()
        }
    }

    private func writeCloseFrame(_ code: WebSocketErrorCode, promise: EventLoopPromise<Void>?) {
        var data = channel.allocator.buffer(capacity: 64)
        data.write(webSocketErrorCode: code)
        if let reason = HubCloseCode.reason(for: code) { data.writeString(reason) }
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: data), promise: promise)
    }
}
