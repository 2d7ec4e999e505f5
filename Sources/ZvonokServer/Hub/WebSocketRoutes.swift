import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOWebSocket
import ZvonokCore

/// `GET /v1/ws`: authenticated on upgrade (Bearer header or `?token=`), then frames both ways until either side ends.
struct WebSocketRoutes {
    let hub: MessagingHub
    /// Frames over 64 KiB close the connection with 1009 (contract §5).
    static let maximumFrame = 64 << 10
    /// Close code for a connection beyond the person's limit that raced past the upgrade's check.
    static let tooManyConnections: UInt16 = 4029

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        router.ws("v1/ws") { request, context in
            let identity = try context.requireIdentity()
            // A plain GET would otherwise be answered 200 with nothing.
            guard request.headers[.upgrade]?.lowercased().contains("websocket") == true else {
                throw ZvonokError.invalidArgument("GET /v1/ws upgrades to a WebSocket; send Upgrade: websocket")
            }
            guard hub.hasRoomForConnection(of: identity.personID) else {
                throw ZvonokError.rateLimited("too many open connections; close one first")
            }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            guard let identity = context.requestContext.identity else { return }
            try await WebSocketPingHandler.install(on: context.requestContext.channel, interval: hub.pingInterval)
            let connection = HubConnection(personID: identity.personID, channel: context.requestContext.channel,
                                           outbound: outbound, closeGrace: hub.closeGrace)
            guard let chats = try await hub.connect(connection) else {
                // Several upgrades raced past the check above.
                try await outbound.close(.unknown(Self.tooManyConnections), reason: "too many open connections")
                return
            }
            defer { hub.disconnect(connection) }
            connection.start(with: HubFrames.ready(user: identity.personID, chats: chats))
            var session = HubSession(hub: hub, identity: identity, connection: connection, chats: chats)
            defer { connection.finish() }
            for try await message in inbound.messages(maxSize: Self.maximumFrame) {
                switch message {
                case .text(let text): await session.handle(text)
                case .binary: connection.send(HubFrames.error(.invalidArgument("frames are JSON text"), ref: nil))
                }
            }
        }
    }
}
