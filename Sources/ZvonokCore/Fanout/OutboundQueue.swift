public import DequeModule

/// A connection's bounded outbound queue, as a plain state machine: the server holds one per connection under a
/// lock, enqueues from any thread, and drains it on the connection's own event loop — many frames written, one
/// flush.
///
/// Bounded by frames and by bytes; a connection that falls behind past either bound overflows once, and the server
/// then closes it (4008) so that it can resume with `sync`. Nothing here blocks or allocates per frame beyond the
/// deque's amortised growth.
public struct OutboundQueue<Payload> {
    /// What the caller must do after an enqueue.
    public enum EnqueueAction: Equatable {
        /// The queue was empty and no drain is pending: schedule one on the connection's event loop.
        case scheduleDrain
        /// A drain is already scheduled; it will take this frame too.
        case none
        /// Over the bound: close the connection as too slow. Reported once; later frames are dropped.
        case overflow
    }

    public let maximumFrames: Int
    public let maximumBytes: Int
    @usableFromInline var frames: Deque<Payload> = []
    @usableFromInline var bytes = 0
    @usableFromInline var drainScheduled = false
    @usableFromInline var isOverflowed = false

    public var overflowed: Bool { isOverflowed }

    public init(maximumFrames: Int, maximumBytes: Int) {
        self.maximumFrames = maximumFrames
        self.maximumBytes = maximumBytes
    }

    public var count: Int { frames.count }
    public var byteCount: Int { bytes }

    @inlinable
    public mutating func enqueue(_ payload: Payload, bytes size: Int) -> EnqueueAction {
        guard !isOverflowed else { return .none }
        guard frames.count < maximumFrames, bytes + size <= maximumBytes else {
            isOverflowed = true
            frames.removeAll()
            bytes = 0
            return .overflow
        }
        frames.append(payload)
        bytes += size
        if drainScheduled { return .none }
        drainScheduled = true
        return .scheduleDrain
    }

    /// Moves every queued frame, in order, into `burst` for one burst of writes; the next enqueue schedules a new
    /// drain. `burst` must be empty: its storage is swapped in, so that a connection reuses two buffers and a
    /// drain allocates nothing.
    @inlinable
    public mutating func drain(into burst: inout Deque<Payload>) {
        precondition(burst.isEmpty, "drain into an empty burst")
        drainScheduled = false
        bytes = 0
        swap(&frames, &burst)
    }
}
