import Logging
import NIOCore
import NIOWebSocket
import ZvonokCore
import ZvonokStorage

/// Serves one upgraded WebSocket from its event loop: frames are read where they arrive (`WebSocketMessages`), whole
/// messages go to the connection's `HubInbox` to be handled in order, and the hub writes to the connection through
/// `HubConnection`. Nothing waits on a task while the connection is idle.
///
/// Reading is paced by the handling: while the inbox is full, the socket is not read, so a client sending faster than
/// its frames are handled is held back by TCP, as an awaiting read loop would hold it.
final class HubChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let hub: MessagingHub
    private let session: CredentialStore.Session
    private var messages = WebSocketMessages(maximumSize: WebSocketRoutes.maximumFrame)
    private var connection: HubConnection?
    private var inbox: HubInbox?
    /// A read was asked for while the inbox was full.
    private var readWaiting = false

    init(hub: MessagingHub, session: CredentialStore.Session) {
        self.hub = hub
        self.session = session
    }

    /// Adds the hub's handlers to a channel just upgraded to WebSocket (NIO's frame codec is in place): the pings,
    /// then this handler, which opens the connection.
    static func install(on channel: any Channel, hub: MessagingHub, session: CredentialStore.Session) throws {
        let pipeline = channel.pipeline.syncOperations
        try WebSocketPingHandler.add(to: pipeline, interval: hub.configuration.pingInterval)
        try pipeline.addHandler(HubChannelHandler(hub: hub, session: session))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let connection: HubConnection
        do {
            connection = try HubConnection(
                personID: session.identity.personID, tokenID: session.tokenID, channel: context.channel,
                drains: hub.drains.drains(of: context.eventLoop), closeGrace: hub.configuration.closeGrace)
        } catch {
            // No frame encoder: not an upgraded WebSocket, which `install` is only called for.
            hub.logger.error("WebSocket pipeline without a frame encoder", metadata: ["error": "\(error)"])
            return context.close(promise: nil)
        }
        let handler = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let inbox = HubInbox { [eventLoop = context.eventLoop] in
            eventLoop.execute { handler.value.0.resumeReading(context: handler.value.1) }
        }
        self.connection = connection
        self.inbox = inbox
        inbox.open(connection, of: session.identity, on: hub)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let connection, let inbox else { return }
        switch messages.receive(unwrapInboundIn(data)) {
        case .none: break
        case .text(let text): inbox.receive(.text(text))
        case .binary: inbox.receive(.binary)
        case .pong(let payload): connection.sendPong(payload)
        case .fail(let code): connection.close(code)
        case .closed(let code): connection.answerClose(code)
        }
    }

    func read(context: ChannelHandlerContext) {
        if inbox?.isFull == true {
            readWaiting = true
        } else {
            context.read()
        }
    }

    private func resumeReading(context: ChannelHandlerContext) {
        guard readWaiting else { return }
        readWaiting = false
        context.read()
    }

    func channelInactive(context: ChannelHandlerContext) {
        end()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed:
            // The client half-closed without a close frame: nothing more will come.
            context.close(promise: nil)
        case is ChannelShouldQuiesceEvent:
            // The server is shutting down (`HubDrain` usually came first).
            connection?.close(.goingAway)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        hub.logger.debug("WebSocket connection failed", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// The connection is gone: its unhandled messages are dropped and it leaves the hub.
    private func end() {
        inbox?.close()
        if let connection, connection.finish() { hub.disconnect(connection) }
        connection = nil
        inbox = nil
    }
}
