import NIOCore
import NIOPosix
import Synchronization
import ZvonokCore

/// A plain TCP connection to the test server, for what HTTP clients never do: send half a request, or nothing.
struct RawConnection {
    /// What the server sent, and how long after `text` was sent it closed the connection (nil: still open when the
    /// test stopped waiting).
    struct Outcome {
        let received: String
        let closedAfter: Duration?
    }

    /// Connects, sends `text`, and reads until the server closes the connection or `patience` has passed.
    static func send(_ text: String, port: Int, patience: Duration) async throws -> Outcome {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        return try await channel.executeThenClose { inbound, outbound in
            let start = ContinuousClock.now
            do {
                if !text.isEmpty { try await outbound.write(ByteBuffer(string: text)) }
            } catch {
                return Outcome(received: "", closedAfter: ContinuousClock.now - start)  // closed before it could be written to
            }
            let received = ReceivedText()
            do {
                try await withTimeout(patience) {
                    do {
                        for try await buffer in inbound { received.append(String(buffer: buffer)) }
                    } catch {
                        // A reset is a close too.
                    }
                }
                return Outcome(received: received.text, closedAfter: ContinuousClock.now - start)
            } catch is TimeoutError {
                return Outcome(received: received.text, closedAfter: nil)
            }
        }
    }
}

/// The text read so far, shared with the reading task.
private final class ReceivedText: Sendable {
    private let parts = Mutex<[String]>([])

    func append(_ part: String) { parts.withLock { $0.append(part) } }
    var text: String { parts.withLock { $0.joined() } }
}
