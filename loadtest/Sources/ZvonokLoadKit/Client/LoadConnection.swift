import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// One WebSocket connection of the load generator: a plain NIO channel handler on NIOWebSocket's client upgrade,
/// with no task, stream or continuation per connection or per frame.
///
/// Why not `WSClient` (swift-websocket): it runs every connection as an async task reading an `AsyncSequence` of
/// frames, which costs a task, its stack of async frames and a continuation resume per frame. Held 10,000–15,000 at a
/// time on two cores shared with the server, that per-frame cost would land in the very latencies being measured;
/// a channel handler reads each frame synchronously on its event loop and keeps per-connection state to the NIO
/// channel and this object (a few KiB).
final class LoadConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let person: PersonState
    private var context: ChannelHandlerContext?
    private let ready: EventLoopPromise<Void>
    private var fragments: ByteBuffer?
    private var closing = false
    private var counted = false

    init(person: PersonState, ready: EventLoopPromise<Void>) {
        self.person = person
        self.ready = ready
    }

    var isOpen: Bool { context != nil && !closing }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted {
            person.stats.add(\.open, -1)
        }
        if !closing {
            person.stats.add(\.unexpectedCloses)
        }
        closing = true
        ready.fail(ConnectFailure.closedBeforeReady)
        person.connectionEnded(self)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .continuation:
            var data = frame.unmaskedData
            if !frame.fin || fragments != nil {
                fragments = fragments ?? context.channel.allocator.buffer(capacity: data.readableBytes * 2)
                fragments!.writeBuffer(&data)
                guard frame.fin else { return }
                data = fragments!
                fragments = nil
            }
            person.handleText(data, on: self)
        case .ping:
            write(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData), flush: true)
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readInteger(as: UInt16.self) ?? 1005
            if code == 4008 {
                person.stats.add(\.slowConsumerCloses)
            }
            if !closing {
                // The server ended the connection: only a 4008 in a scenario that reconnects is expected.
                if !(code == 4008 && person.context.configuration.reconnects) && !person.expectClose {
                    person.stats.add(\.unexpectedCloses)
                }
                closeNormally(context)
            }
        default:
            break
        }
    }

    /// `ready` arrived: the connection counts as open.
    func becameReady() {
        guard !counted else { return }
        counted = true
        person.stats.add(\.open)
        person.stats.add(\.opened)
        ready.succeed()
    }

    /// Writes a text frame (masked, as clients must).
    func sendText(_ buffer: ByteBuffer, flush: Bool = true) {
        write(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer), flush: flush)
    }

    private func write(_ frame: WebSocketFrame, flush: Bool) {
        guard let context, !closing else { return }
        if flush {
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        } else {
            context.write(wrapOutboundOut(frame), promise: nil)
        }
    }

    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }

    /// Closes with 1000 (a reconnect, or the end of the run).
    func close() {
        guard let context, !closing else { return }
        closeNormally(context)
    }

    /// Sends a 1000 close frame, then closes the channel.
    private func closeNormally(_ context: ChannelHandlerContext) {
        closing = true
        let channel = context.channel
        var reply = channel.allocator.buffer(capacity: 2)
        reply.writeInteger(UInt16(1000))
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: reply)))
            .whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Why a connection did not reach `ready`.
enum ConnectFailure: Error, CustomStringConvertible {
    case notUpgraded
    case closedBeforeReady
    case timedOut

    var description: String {
        switch self {
        case .notUpgraded: "the server refused the WebSocket upgrade"
        case .closedBeforeReady: "the connection closed before ready"
        case .timedOut: "no ready within the connect timeout"
        }
    }
}

/// Opens WebSocket connections to `GET /v1/ws` from chosen loopback source addresses.
struct WebSocketConnector: Sendable {
    let host: String
    let port: Int
    let path: String
    /// Source addresses to spread connections over (each gives its own ~28,000 ephemeral ports); empty: the system's choice.
    let sourceAddresses: [String]
    let timeout: TimeAmount

    private enum Upgrade: Sendable {
        case upgraded
        case refused
    }

    /// Connects `person` on its event loop; the future completes once `ready` has been handled.
    func connect(_ person: PersonState, sourceIndex: Int) -> EventLoopFuture<Void> {
        let loop = person.loop
        let ready = loop.makePromise(of: Void.self)
        let upgraded = loop.makePromise(of: Upgrade.self)
        let started = NIODeadline.now()
        var bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(timeout)
        if !sourceAddresses.isEmpty, let local = try? SocketAddress(ipAddress: sourceAddresses[sourceIndex % sourceAddresses.count], port: 0) {
            bootstrap = bootstrap.bind(to: local)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(host):\(port)")
        headers.add(name: "Authorization", value: "Bearer \(person.token)")
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        let connected = bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(maxFrameSize: 1 << 20) { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = LoadConnection(person: person, ready: ready)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        person.attach(handler)
                        return Upgrade.upgraded
                    }
                }
                let configuration = NIOTypedHTTPClientUpgradeConfiguration<Upgrade>(
                    upgradeRequestHead: head, upgraders: [upgrader],
                    notUpgradingCompletionHandler: { channel in channel.eventLoop.makeCompletedFuture { Upgrade.refused } }
                )
                var pipeline = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: configuration)
                // The server may send `ready` in the same read as its 101 answer: those bytes belong to the WebSocket.
                pipeline.leftOverBytesStrategy = .forwardBytes
                let negotiated = try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: pipeline)
                negotiated.cascade(to: upgraded)
            }
        }.connect(host: host, port: port)
        connected.whenComplete { result in
            switch result {
            case .failure(let error):
                upgraded.fail(error)
            case .success(let channel):
                upgraded.futureResult.whenComplete { outcome in
                    if case .success(.upgraded) = outcome { return }
                    ready.fail(ConnectFailure.notUpgraded)
                    channel.close(promise: nil)
                }
                let timer = loop.scheduleTask(in: timeout) {
                    ready.fail(ConnectFailure.timedOut)
                    channel.close(promise: nil)
                }
                ready.futureResult.whenComplete { _ in timer.cancel() }
            }
        }
        upgraded.futureResult.whenFailure { ready.fail($0) }
        return ready.futureResult.map {
            person.stats.connectLatency.record(nanoseconds: NIODeadline.now().uptimeNanoseconds - started.uptimeNanoseconds)
        }.flatMapErrorThrowing { error in
            person.stats.add(\.connectFailures)
            throw error
        }
    }
}
