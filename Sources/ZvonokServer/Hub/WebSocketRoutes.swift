import Hummingbird
import ZvonokCore

/// `GET /v1/ws`: the upgrade's checks, run by `HubUpgradeChannel` for every upgrade request through the router (so the
/// middleware authenticates it: Bearer header or `?token=`). Accepting leaves the caller's identity on the request
/// context; the connection is then served by `HubChannelHandler`. A refusal is answered with its status and the
/// contract's error body.
struct WebSocketRoutes {
    let hub: MessagingHub
    /// Frames over 64 KiB close the connection with 1009 (contract §5).
    static let maximumFrame = 64 << 10

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        router.get("v1/ws") { request, context -> Response in
            let identity = try context.requireIdentity()
            // A plain GET would otherwise be answered 200 with nothing.
            guard request.headers[.upgrade]?.lowercased().contains("websocket") == true else {
                throw ZvonokError.invalidArgument("GET /v1/ws upgrades to a WebSocket; send Upgrade: websocket")
            }
            guard hub.hasRoomForConnection(of: identity.personID) else {
                throw ZvonokError.rateLimited("too many open connections; close one first")
            }
            context.webSocketUpgrade.accept(try context.requireSession())
            return Response(status: .ok)
        }
    }
}
