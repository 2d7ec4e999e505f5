public import Hummingbird
public import HummingbirdWebSocket

/// The request context of every Zvonok route, HTTP and WebSocket alike.
public struct ZvonokRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
    }

    /// Request bodies over 1 MiB are refused with 413; routes that take more (the roster) raise their own limit.
    public var maxUploadSize: Int { 1 << 20 }
}
