import HummingbirdCore
import Logging
import NIOCore

/// A child channel that reads into small buffers at first: NIO keeps a connection's receive buffer for the
/// connection's lifetime, 2 KiB by default, though an idle WebSocket receives a ping answer now and then. The
/// buffer still grows as reads fill it (an upload doubles it read by read).
struct SmallReceiveBuffers<Base: ServerChildChannel>: ServerChildChannel {
    let base: Base
    /// The first read's size; an upgrade request with its token fits.
    static var initialSize: Int { 512 }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Base.Value> {
        do {
            // Never below the first size: a busy connection's reads would otherwise shrink to 64 bytes and take two
            // system calls for one ~120-byte `send`.
            let reads = AdaptiveRecvByteBufferAllocator(minimum: Self.initialSize, initial: Self.initialSize, maximum: 64 << 10)
            try channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: reads)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
