import NIOCore
import NIOWebSocket

/// Pings an idle WebSocket from its event loop and closes the connection when the previous ping went unanswered —
/// what WSCore's auto-ping does, without a task per connection. The auto-ping task slept in `Task.sleep`, which
/// holds a sleep task, a dispatch timer and task-allocator slabs for every idle connection; here a connection holds
/// one scheduled task on its event loop.
///
/// Added right after the frame decoder, so it sees every inbound frame, pongs included, and the close frame going out
/// (the hub's other frames are written already encoded, below it: `WireFrame`): once that went out it stops pinging.
final class WebSocketPingHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let interval: TimeAmount
    private var next: Scheduled<Void>?
    private var awaitingPong = false

    init(interval: TimeAmount) {
        self.interval = interval
    }

    /// Adds the handler to an upgraded WebSocket channel, after its frame decoder.
    static func add(to pipeline: ChannelPipeline.SynchronousOperations, interval: Duration) throws {
        let decoder = try pipeline.handler(type: ByteToMessageHandler<WebSocketFrameDecoder>.self)
        try pipeline.addHandler(WebSocketPingHandler(interval: TimeAmount(interval)), position: .after(decoder))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        schedule(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if unwrapInboundIn(data).opcode == .pong { awaitingPong = false }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if unwrapOutboundIn(data).opcode == .connectionClose { stop() }
        context.write(data, promise: promise)
    }

    private func schedule(context: ChannelHandlerContext) {
        let loop = context.eventLoop.assumeIsolated()
        next = loop.scheduleTask(in: interval) { [self] in
            next = nil
            // Unanswered since the last ping: the peer is gone or too slow to matter.
            guard !awaitingPong else {
                context.close(promise: nil)
                return
            }
            awaitingPong = true
            let ping = WebSocketFrame(fin: true, opcode: .ping, data: context.channel.allocator.buffer(capacity: 0))
            context.writeAndFlush(wrapOutboundOut(ping), promise: nil)
            schedule(context: context)
        }
    }

    private func stop() {
        next?.cancel()
        next = nil
    }
}
