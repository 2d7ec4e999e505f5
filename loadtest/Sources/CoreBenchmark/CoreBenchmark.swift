import DequeModule
import Foundation
import Synchronization
import ZvonokCore

/// `zvonok-core-bench`: the fan-out core alone, in-process, on one thread — no network, no database. Registers
/// sessions in chats of a given size, delivers messages round-robin over the chats into each session's bounded
/// outbound queue (draining the queues as the server's event loops would), and prints deliveries per second.
///
///     swift run -c release zvonok-core-bench [sessions] [chat size] [messages]
@main
enum CoreBenchmark {
    /// Stands in for a shared `ByteBuffer`: one encoded frame, passed to every recipient by reference.
    final class Frame: Sendable {
        let bytes: [UInt8]
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }

    /// Stands in for the event loops: the connections with a drain scheduled.
    final class DrainList: Sendable {
        let sinks = Mutex<[QueueSink]>([])

        /// Drains every scheduled connection, one burst each; returns the frames taken.
        func drain() -> Int {
            let scheduled = sinks.withLock { list in
                defer { list.removeAll(keepingCapacity: true) }
                return list
            }
            return scheduled.reduce(0) { frames, sink in frames + sink.writeBurst() }
        }
    }

    /// A connection whose queue is the server's `OutboundQueue` behind a lock, as in the real session.
    final class QueueSink: FrameSink, Sendable {
        let queue = Mutex(OutboundQueue<Frame>(maximumFrames: 1024, maximumBytes: 1 << 20))
        /// The second buffer of the queue's double buffering; only the draining thread touches it.
        nonisolated(unsafe) var burst = Deque<Frame>()
        let pending: DrainList

        init(pending: DrainList) {
            self.pending = pending
        }

        /// What the event loop does: take the queued frames, "write" each (here: count bytes), one flush.
        func writeBurst() -> Int {
            queue.withLock { $0.drain(into: &burst) }
            let frames = burst.count
            burst.removeAll(keepingCapacity: true)
            return frames
        }

        func enqueue(_ payload: Frame) {
            let action = queue.withLock { $0.enqueue(payload, bytes: payload.bytes.count) }
            if action == .scheduleDrain { pending.sinks.withLock { $0.append(self) } }
        }
    }

    static func main() {
        let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
        let sessions = arguments.first ?? 10_000
        let chatSize = arguments.dropFirst().first ?? 30
        let messages = arguments.dropFirst(2).first ?? 1_000_000
        let chats = max(1, sessions / chatSize)

        let hub = FanoutHub<QueueSink>()
        let pending = DrainList()
        for index in 0..<sessions {
            hub.register(QueueSink(pending: pending), person: Int64(index), chats: [Int64(index % chats)])
        }
        let frame = Frame(
            Array(
                #"{"type":"msg","chat":"c17","seq":12345,"id":"c17.12345","from":"p42","text":"Завтра контрольная","ts":"2026-11-25T08:30:00.000Z"}"#
                    .utf8))

        var delivered = 0
        var written = 0
        let start = ContinuousClock.now
        for message in 0..<messages {
            delivered += hub.deliver(frame, to: Int64(message % chats))
            // The event loops drain what was scheduled: one burst per connection, many frames per burst.
            if message % 64 == 63 { written += pending.drain() }
        }
        written += pending.drain()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("sessions=\(sessions) chat_size=\(chatSize) chats=\(chats) messages=\(messages)")
        print("deliveries=\(delivered) frames_drained=\(written) seconds=\(String(format: "%.3f", seconds))")
        print("deliveries_per_second_one_core=\(String(format: "%.0f", Double(delivered) / seconds))")
        print("ns_per_delivery=\(String(format: "%.1f", seconds * 1e9 / Double(delivered)))")
    }
}
