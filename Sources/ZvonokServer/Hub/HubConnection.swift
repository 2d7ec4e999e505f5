import DequeModule
import NIOCore
import NIOWebSocket
import Synchronization
import WSCore
import ZvonokCore

/// One WebSocket connection as the fan-out core's sink: a bounded outbound queue filled from any thread, and a
/// writer that drains it in bursts. The writer wakes once per burst, not once per frame.
final class HubConnection: FrameSink, Sendable {
    let personID: Int64
    private let queue = Mutex(OutboundQueue<ByteBuffer>(maximumFrames: 4096, maximumBytes: 4 << 20))
    private let wake: AsyncStream<Wake>.Continuation
    let wakes: AsyncStream<Wake>

    /// Why the writer woke.
    enum Wake: Sendable { case drain, overflow }

    init(personID: Int64) {
        self.personID = personID
        (wakes, wake) = AsyncStream.makeStream(of: Wake.self, bufferingPolicy: .bufferingNewest(2))
    }

    func enqueue(_ payload: ByteBuffer) {
        switch queue.withLock({ $0.enqueue(payload, bytes: payload.readableBytes) }) {
        case .scheduleDrain: wake.yield(.drain)
        case .overflow: wake.yield(.overflow)
        case .none: break
        }
    }

    /// Writes queued frames until the connection ends; a reader that fell behind its bound is closed with 4008.
    func runWriter(_ outbound: WebSocketOutboundWriter) async throws {
        var burst = Deque<ByteBuffer>()
        for await reason in wakes {
            if reason == .overflow {
                try await outbound.close(.unknown(4008), reason: "too slow; reconnect and sync")
                return
            }
            queue.withLock { $0.drain(into: &burst) }
            for frame in burst {
                try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: frame)))
            }
            burst.removeAll(keepingCapacity: true)
        }
    }

    func finish() {
        wake.finish()
    }
}
