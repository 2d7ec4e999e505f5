public import Hummingbird
public import HummingbirdWebSocket
public import NIOCore
public import ZvonokCore

/// The request context of every Zvonok route, HTTP and WebSocket alike: who is calling, and from where.
public struct ZvonokRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public let remoteAddress: SocketAddress?
    /// The connection's channel: the hub writes a burst of frames to it with one flush.
    public let channel: any Channel
    /// The caller, once `AuthenticationMiddleware` has checked their bearer token.
    public var identity: Identity?
    /// The token the caller presented (to revoke it on sign-out).
    public var bearerToken: String?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.remoteAddress = source.channel.remoteAddress
        self.channel = source.channel
    }

    /// Request bodies over 1 MiB are refused with 413; the roster route collects up to its own 16 MiB limit.
    public var maxUploadSize: Int { 1 << 20 }

    /// The caller, or 401 when the request carried no valid token.
    public func requireIdentity() throws(ZvonokError) -> Identity {
        guard let identity else { throw .unauthenticated() }
        return identity
    }
}
