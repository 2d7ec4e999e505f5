import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import ZvonokCore
import ZvonokStorage

/// HTTP/1.1 with the upgrade to the hub's WebSocket. An upgraded connection is served by NIO channel handlers alone
/// (`HubChannelHandler`) and this child channel's work ends with the upgrade, so no task is kept per WebSocket:
/// Hummingbird's `HTTP1WebSocketUpgradeChannel` runs WSCore's handler in the connection's task for its whole life, and
/// that task's frames were most of an idle connection's memory (docs/performance.md). The HTTP side is Hummingbird's,
/// set up as that channel sets it up.
///
/// An upgrade request goes through the router (its middleware authenticates it); `GET /v1/ws` accepts it by leaving
/// the identity on the context. Any other answer refuses the upgrade and is sent as it is — 401, 429, 400 with the
/// contract's error body — and the connection closed.
struct HubUpgradeChannel<UpgradeResponder: HTTPResponder>: ServerChildChannel, HTTPChannelHandler
where UpgradeResponder.Context == ZvonokRequestContext {
    /// How the connection goes on after its first request.
    enum Outcome: Sendable {
        /// Upgraded: the pipeline serves the hub.
        case upgraded
        /// Plain HTTP.
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// An upgrade refused with this answer.
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, Response)
    }

    struct Value: ServerChildChannelValue {
        let outcome: EventLoopFuture<Outcome>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let upgradeResponder: UpgradeResponder
    let hub: MessagingHub
    /// Hummingbird's HTTP/1.1 settings; its `idleTimeout` closes a kept-alive connection that stays idle, or sends
    /// a later request too slowly. It never reaches an upgraded connection, whose pipeline has no HTTP handlers.
    let http1: HTTP1Channel.Configuration

    init(
        responder: @escaping HTTPChannelHandler.Responder, upgradeResponder: UpgradeResponder, hub: MessagingHub,
        http1: HTTP1Channel.Configuration
    ) {
        self.responder = Self.redirectingLateUpgrades(responder)
        self.upgradeResponder = upgradeResponder
        self.hub = hub
        self.http1 = http1
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // What the router decided, for the upgrade or for the HTTP answer that refuses it.
            let decision = NIOLockedValueBox<Result<CredentialStore.Session, Refusal>?>(nil)
            let upgrader = NIOTypedWebSocketServerUpgrader<Outcome>(
                maxFrameSize: WebSocketRoutes.maximumFrame,
                shouldUpgrade: { channel, head in
                    let decided = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
                    decided.completeWithTask {
                        let result = await decide(try HTTPRequest(head, secure: false, splitCookie: false), channel: channel, logger: logger)
                        decision.withLockedValue { $0 = result }
                        return (try? result.get()).map { _ in HTTPHeaders() }
                    }
                    return decided.futureResult
                },
                upgradePipelineHandler: { [hub] channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard case .success(let session) = decision.withLockedValue({ $0 }) else {
                            throw ChannelError.inappropriateOperationForState  // NIO upgrades only what shouldUpgrade accepted
                        }
                        try HubChannelHandler.install(on: channel, hub: hub, session: session)
                        return .upgraded
                    }
                }
            )
            let upgrades = NIOTypedHTTPServerUpgradeConfiguration(upgraders: [upgrader]) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let http = try httpChannel(channel, logger: logger)
                    guard case .failure(let refusal) = decision.withLockedValue({ $0 }) else { return .http(http) }
                    return .refused(http, refusal.response)
                }
            }
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<Outcome>(upgradeConfiguration: upgrades)
            configuration.enablePipelining = false  // HTTP is pipelined by NIOAsyncChannel
            configuration.enableErrorHandling = false  // Hummingbird handles these
            configuration.enableResponseHeaderValidation = false  // Swift HTTP Types validate already
            configuration.decoderConfiguration.maxHeaderFieldSize = http1.httpDecoder.maxHeaderFieldSize
            configuration.decoderConfiguration.maxHeaderListSize = http1.httpDecoder.maxHeaderListSize
            configuration.decoderConfiguration.maxHeaderFieldCount = http1.httpDecoder.maxHeaderFieldCount
            let outcome = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            return Value(outcome: outcome, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.outcome.get() {
            case .upgraded: return
            case .http(let http): await handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http, let answer): try await refuse(http, with: answer)
            }
        } catch {
            logger.debug("Connection ended before its first request was answered", metadata: ["error": "\(error)"])
        }
    }

    /// The HTTP side of a connection that was not upgraded, as Hummingbird's HTTP/1.1 channel has it.
    private func httpChannel(_ channel: any Channel, logger: Logger) throws -> NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart> {
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
        try pipeline.addHandlers(http1.additionalChannelHandlers())
        try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: http1.idleTimeout.map { .init($0) }, logger: logger))
        return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
    }

    /// An upgrade refusal as a failure, to carry its answer.
    private struct Refusal: Error {
        let response: Response
    }

    /// Asks the router whether to upgrade: the session `GET /v1/ws` accepted, or the answer to send instead.
    private func decide(_ head: HTTPRequest, channel: any Channel, logger: Logger) async -> Result<CredentialStore.Session, Refusal> {
        let context = ZvonokRequestContext(source: .init(channel: channel, logger: logger))
        do {
            let response = try await upgradeResponder.respond(to: Request(head: head, body: .init(buffer: ByteBuffer())), context: context)
            guard response.status == .ok else { return .failure(Refusal(response: response)) }
            guard let session = context.webSocketUpgrade.session else {
                return .failure(Refusal(response: ErrorMiddleware.response(for: .invalidArgument("only GET /v1/ws upgrades to a WebSocket"))))
            }
            return .success(session)
        } catch {
            logger.error("WebSocket upgrade failed", metadata: ["error": "\(error)"])
            return .failure(Refusal(response: ErrorMiddleware.response(for: ZvonokError(.internal, "internal error"))))
        }
    }

    /// Sends the answer to a refused upgrade and closes the connection.
    private func refuse(_ http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, with answer: Response) async throws {
        try await http.executeThenClose { _, outbound in
            var head = answer.head
            head.headerFields[.connection] = "close"
            try await ResponseWriter(outbound: outbound).write(response: head, body: answer.body)
        }
    }

    /// NIO upgrades only a connection's first request. A later one asking for the upgrade is sent back to the same
    /// address with the connection closed, so that the client asks again on a new connection (what Hummingbird's
    /// upgrade channel does).
    private static func redirectingLateUpgrades(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        { request, writer, channel in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                return try await responder(request, writer, channel)
            }
            let location = request.uri.query.map { "\(request.uri.path)?\($0)" } ?? request.uri.path
            try await writer.writeResponse(HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: location]))
            throw LateUpgrade()
        }
    }

    /// Ends a connection that asked for an upgrade too late (see `redirectingLateUpgrades`).
    private struct LateUpgrade: Error {}
}
