public import Hummingbird
public import NIOCore
import Synchronization
public import ZvonokCore
public import ZvonokStorage

/// The request context of every Zvonok route, HTTP and WebSocket alike: who is calling, and from where.
public struct ZvonokRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Where `GET /v1/ws` leaves the identity of an upgrade it accepted (the context is copied on its way).
    let webSocketUpgrade = WebSocketUpgrade()
    public let remoteAddress: SocketAddress?
    /// The connection's channel: the hub writes a burst of frames to it with one flush.
    public let channel: any Channel
    /// The caller's session, once `AuthenticationMiddleware` has checked their bearer token.
    public var session: CredentialStore.Session?
    /// The caller, once `AuthenticationMiddleware` has checked their bearer token.
    public var identity: Identity? { session?.identity }

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.channel = source.channel
    }

    /// Request bodies over 1 MiB are refused with 413; the roster route collects up to its own 16 MiB limit.
    public var maxUploadSize: Int { 1 << 20 }

    /// The caller, or 401 when the request carried no valid token.
    public func requireIdentity() throws(ZvonokError) -> Identity {
        try requireSession().identity
    }

    /// The client's address for per-address limits: the socket's peer, or `X-Real-IP` when the server sits behind a
    /// trusted proxy that sets it.
    public func clientAddress(of request: Request, trustingProxy: Bool) -> String {
        if trustingProxy, let forwarded = request.headers[.init("X-Real-IP")!] {
            return forwarded
        }
        return remoteAddress?.ipAddress ?? "unknown"
    }

    /// The caller's session, or 401 when the request carried no valid token.
    public func requireSession() throws(ZvonokError) -> CredentialStore.Session {
        guard let session else { throw .unauthenticated() }
        return session
    }
}

/// An upgrade to the hub accepted by `GET /v1/ws`, for `HubUpgradeChannel` to read once the router has answered.
final class WebSocketUpgrade: Sendable {
    private let accepted = Mutex<CredentialStore.Session?>(nil)

    func accept(_ session: CredentialStore.Session) {
        accepted.withLock { $0 = session }
    }

    var session: CredentialStore.Session? { accepted.withLock { $0 } }
}
