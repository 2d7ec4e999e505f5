import Histogram
import Synchronization

/// Counters and latency histograms of the connections on one event loop. The counters are atomics so that the
/// progress line can read them from anywhere; the histograms are touched only on the loop itself and read once at
/// the end, so recording a latency costs no lock.
final class LoopStats: @unchecked Sendable {
    let open = AtomicCounter()
    let opened = AtomicCounter()
    let connectFailures = AtomicCounter()
    let sent = AtomicCounter()
    let acked = AtomicCounter()
    let delivered = AtomicCounter()
    let errorFrames = AtomicCounter()
    /// Sends answered `unavailable` and sent again with the same `cid` (`--retry-unavailable`).
    let retried = AtomicCounter()
    /// Sends that no answer came for within a client's time-out, sent again with the same `cid`.
    let resent = AtomicCounter()
    let rateLimited = AtomicCounter()
    let unexpectedCloses = AtomicCounter()
    let slowConsumerCloses = AtomicCounter()
    let duplicates = AtomicCounter()
    let reordered = AtomicCounter()
    let gaps = AtomicCounter()
    let syncs = AtomicCounter()
    let historySyncs = AtomicCounter()
    let reconnects = AtomicCounter()

    /// Microseconds from the intended send time to the `ack`.
    var ackLatency = LatencyHistogram()
    /// Microseconds from the intended send time to each recipient's `msg`.
    var deliveryLatency = LatencyHistogram()
    /// The same, for recipients connected to another node than the sender (several nodes only).
    var crossNodeLatency = LatencyHistogram()
    /// Microseconds from the intended send time to the last of a message's recipients (`fanout` only).
    var lastRecipientLatency = LatencyHistogram()
    /// Microseconds from starting to connect to `ready`.
    var connectLatency = LatencyHistogram()

    func add(_ counter: KeyPath<LoopStats, AtomicCounter>, _ amount: Int = 1) {
        self[keyPath: counter].add(amount)
    }
}

/// A counter that any thread may bump and read (a class, so that key paths can name it).
final class AtomicCounter: Sendable {
    private let atomic = Atomic<Int>(0)

    func add(_ amount: Int) {
        atomic.add(amount, ordering: .relaxed)
    }

    var value: Int { atomic.load(ordering: .relaxed) }
}

/// A latency histogram in microseconds, up to an hour, three significant digits.
struct LatencyHistogram: Sendable {
    private(set) var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)

    mutating func record(nanoseconds: UInt64) {
        _ = histogram.record(Swift.max(1, Swift.min(nanoseconds / 1000, 3_600_000_000)))
    }

    mutating func add(_ other: LatencyHistogram) {
        histogram.add(other.histogram)
    }

    var summary: LatencySummary {
        let count = Int(histogram.totalCount)
        func at(_ percentile: Double) -> Double { count == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1000 }
        return LatencySummary(
            count: count, p50: at(50), p90: at(90), p99: at(99), p999: at(99.9),
            max: count == 0 ? 0 : Double(histogram.max) / 1000
        )
    }
}

/// Percentiles of one latency, in milliseconds.
public struct LatencySummary: Codable, Sendable, Equatable {
    public var count: Int
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double
}

/// The sum of every loop's counters.
public struct Counters: Codable, Sendable, Equatable {
    public var open = 0
    public var opened = 0
    public var connectFailures = 0
    public var sent = 0
    public var acked = 0
    public var delivered = 0
    public var errorFrames = 0
    public var retried = 0
    public var resent = 0
    public var rateLimited = 0
    public var unexpectedCloses = 0
    public var slowConsumerCloses = 0
    public var duplicates = 0
    public var reordered = 0
    public var gaps = 0
    public var syncs = 0
    public var historySyncs = 0
    public var reconnects = 0

    init(_ loops: [LoopStats]) {
        for loop in loops {
            open += loop.open.value
            opened += loop.opened.value
            connectFailures += loop.connectFailures.value
            sent += loop.sent.value
            acked += loop.acked.value
            delivered += loop.delivered.value
            errorFrames += loop.errorFrames.value
            retried += loop.retried.value
            resent += loop.resent.value
            rateLimited += loop.rateLimited.value
            unexpectedCloses += loop.unexpectedCloses.value
            slowConsumerCloses += loop.slowConsumerCloses.value
            duplicates += loop.duplicates.value
            reordered += loop.reordered.value
            gaps += loop.gaps.value
            syncs += loop.syncs.value
            historySyncs += loop.historySyncs.value
            reconnects += loop.reconnects.value
        }
    }

    /// Everything that went wrong, for the progress line.
    public var errors: Int {
        connectFailures + errorFrames + unexpectedCloses + duplicates + reordered + gaps
    }
}

extension Counters {
    /// The sum of two processes' counters.
    public func adding(_ other: Counters) -> Counters {
        var sum = self
        sum.open += other.open
        sum.opened += other.opened
        sum.connectFailures += other.connectFailures
        sum.sent += other.sent
        sum.acked += other.acked
        sum.delivered += other.delivered
        sum.errorFrames += other.errorFrames
        sum.retried += other.retried
        sum.resent += other.resent
        sum.rateLimited += other.rateLimited
        sum.unexpectedCloses += other.unexpectedCloses
        sum.slowConsumerCloses += other.slowConsumerCloses
        sum.duplicates += other.duplicates
        sum.reordered += other.reordered
        sum.gaps += other.gaps
        sum.syncs += other.syncs
        sum.historySyncs += other.historySyncs
        sum.reconnects += other.reconnects
        return sum
    }
}
