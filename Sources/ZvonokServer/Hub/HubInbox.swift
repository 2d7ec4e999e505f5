import DequeModule
import Logging
import NIOWebSocket
import Synchronization
import ZvonokCore

/// The messages one connection received, handled one after another in arrival order (contract §5): on the spot, on
/// the event loop, when the connection is idle and the message needs nothing from the database (most `send`s);
/// otherwise by a task that runs only while there are messages: first while the connection opens (its chats loaded,
/// `ready` sent), then whenever such a message arrives. An idle connection holds no task — the task per WebSocket
/// that Hummingbird's handler keeps was most of an idle connection's memory (docs/performance.md).
///
/// The session (`HubSession`) travels with the running task and is parked here between runs, so only one task at a
/// time ever touches it.
final class HubInbox: Sendable {
    /// A whole message from the client.
    enum Message: Sendable {
        case text(String)
        case binary
    }

    /// Messages read ahead of their handling; beyond this the connection's socket is not read (`isFull`).
    static let capacity = 64

    private struct State {
        var messages = Deque<Message>()
        /// Parked between runs; nil while a task runs (or before the connection opened).
        var session: HubSession?
        /// The connection is gone: what is left is dropped.
        var closed = false
    }

    private let state = Mutex(State())
    /// Called when a full inbox has room again, so that reading resumes.
    private let onRoom: @Sendable () -> Void

    init(onRoom: @escaping @Sendable () -> Void) {
        self.onRoom = onRoom
    }

    /// Opens the connection in a task of its own: registers it with the hub (its chats, the fan-out), sends
    /// `ready`, then handles what arrived meanwhile. Closed with 4029 when the person has too many connections
    /// open, 1011 when the database cannot say which chats they are in.
    func open(_ connection: HubConnection, of identity: Identity, on hub: MessagingHub) {
        Task {
            let chats: [ChatSummary]?
            do {
                chats = try await hub.connect(connection)
            } catch {
                hub.logger.warning("Connection could not be opened", metadata: ["error": "\(error)"])
                connection.close(.unexpectedServerError)
                return
            }
            // Several upgrades raced past the route's check.
            guard let chats else { return connection.close(HubCloseCode.tooManyConnections) }
            guard connection.register() else { return hub.disconnect(connection) }  // gone while opening
            connection.start(with: HubFrames.ready(user: identity.personID, chats: chats))
            await run(HubSession(hub: hub, identity: identity, connection: connection, chats: chats))
        }
    }

    /// Handles a message: on the spot when the session is idle and the message needs nothing from the database
    /// (`HubSession.handleAtOnce`), else queued behind the messages before it, starting a task when none runs.
    /// Called on the connection's event loop only, so nothing arrives while a message is handled on the spot.
    func receive(_ message: Message) {
        let idle = state.withLock { state -> HubSession? in
            guard !state.closed else { return nil }
            guard let session = state.session else {
                state.messages.append(message)
                return nil
            }
            state.session = nil
            return session
        }
        guard let session = idle else { return }
        if session.handleAtOnce(message) {
            park(session)
        } else {
            state.withLock { $0.messages.prepend(message) }
            Task { await run(session) }
        }
    }

    /// Whether the socket should wait before it is read again.
    var isFull: Bool { state.withLock { $0.messages.count >= Self.capacity } }

    /// The connection is gone: messages not handled yet are dropped, and no task starts again.
    func close() {
        state.withLock { state in
            state.closed = true
            state.messages.removeAll()
            state.session = nil
        }
    }

    private func run(_ session: HubSession) async {
        var session = session
        while let message = next(parking: session) {
            await session.handle(message)
        }
    }

    /// Parks the session after a message handled on the spot.
    private func park(_ session: HubSession) {
        state.withLock { state in
            if !state.closed { state.session = session }
        }
    }

    /// The next message to handle, or nil after parking the session when there is none.
    private func next(parking session: HubSession) -> Message? {
        let (message, hadRoomAgain) = state.withLock { state -> (Message?, Bool) in
            guard !state.closed, let message = state.messages.popFirst() else {
                if !state.closed { state.session = session }
                return (nil, false)
            }
            return (message, state.messages.count == Self.capacity - 1)
        }
        if hadRoomAgain { onRoom() }
        return message
    }
}
