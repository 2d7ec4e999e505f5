import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// The first defences of every connection, before TLS and HTTP see it: at most `ConnectionsPerAddress.limit`
/// connections open at once from one address (more are closed at once), and the first request's head complete within
/// `headerTimeout` of the connection opening, TLS handshake included, or the connection is closed (a request line and
/// a header, then nothing, held a connection forever). Later requests on a kept-alive connection are bounded by the
/// HTTP idle timeout instead, and an upgraded WebSocket by its pings.
struct ConnectionGuard<Base: ServerChildChannel>: ServerChildChannel {
    let base: Base
    let headerTimeout: Duration
    /// Nil when addresses are not to be counted (behind a proxy, every connection comes from the proxy).
    let addresses: ConnectionsPerAddress?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Base.Value> {
        do {
            if let addresses, !addresses.admit(channel) {
                logger.debug("Connection refused: too many from one address", metadata: ["limit": "\(addresses.limit)"])
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(ChannelError.inappropriateOperationForState)
            }
            try channel.pipeline.syncOperations.addHandler(RequestHeadDeadline(timeout: TimeAmount(headerTimeout)))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Counts the open connections of each remote address, to refuse those over `limit`. A whole school may sit behind
/// one NAT address, so the limit is high: it stops one machine from holding all of the server's sockets, not a school.
final class ConnectionsPerAddress: Sendable {
    let limit: Int
    private let open = Mutex<[String: Int]>([:])

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts `channel` in, until it closes; false (and not counted) when its address is at the limit.
    func admit(_ channel: any Channel) -> Bool {
        guard let address = channel.remoteAddress?.ipAddress else { return true }
        let admitted = open.withLock { open in
            guard open[address, default: 0] < limit else { return false }
            open[address, default: 0] += 1
            return true
        }
        if admitted { channel.closeFuture.whenComplete { _ in self.release(address) } }
        return admitted
    }

    private func release(_ address: String) {
        open.withLock { open in
            open[address, default: 1] -= 1
            if open[address] == 0 { open[address] = nil }
        }
    }
}

/// Closes the connection unless the head of its first request (the bytes up to the empty line) has arrived within
/// `timeout` of this handler's installation; once it has, the handler removes itself.
final class RequestHeadDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    /// Line feeds in a row so far, carriage returns aside: the second ends the head.
    private var lineFeeds = 0

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let headEnded = endsHead(unwrapInboundIn(data))
        context.fireChannelRead(data)
        if headEnded { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
    }

    private func endsHead(_ buffer: ByteBuffer) -> Bool {
        for byte in buffer.readableBytesView {
            switch byte {
            case UInt8(ascii: "\n"): lineFeeds += 1
            case UInt8(ascii: "\r"): continue
            default: lineFeeds = 0
            }
            if lineFeeds == 2 { return true }
        }
        return false
    }
}
