import Synchronization

/// Token buckets by key (a client address, a person): `capacity` requests at once, refilled at `perSecond`.
///
/// Used to slow invite-code guessing and floods. Buckets that have refilled completely carry no information, so
/// they are dropped when the table grows, which bounds memory under a spray of addresses.
public final class RateLimiter: Sendable {
    public struct Configuration: Sendable {
        public var capacity: Double
        public var perSecond: Double
        /// Above this many tracked keys, full buckets are forgotten.
        public var maximumKeys: Int = 100_000

        public init(capacity: Double, perSecond: Double) {
            self.capacity = capacity
            self.perSecond = perSecond
        }
    }

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let configuration: Configuration
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    /// Whether `key` has a token left, without taking it.
    public func hasCapacity(_ key: String, now: ContinuousClock.Instant = .now) -> Bool {
        buckets.withLock { buckets in
            guard let bucket = buckets[key] else { return true }
            return refilled(bucket, at: now) >= 1
        }
    }

    /// Takes one token for `key` if there is one; false means the caller must refuse the request.
    @discardableResult
    public func allow(_ key: String, now: ContinuousClock.Instant = .now) -> Bool {
        buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: configuration.capacity, updated: now)
            bucket.tokens = refilled(bucket, at: now)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            buckets[key] = bucket
            if buckets.count > configuration.maximumKeys {
                buckets = buckets.filter { refilled($0.value, at: now) < configuration.capacity }
            }
            return allowed
        }
    }

    private func refilled(_ bucket: Bucket, at now: ContinuousClock.Instant) -> Double {
        let elapsed = now - bucket.updated
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return min(configuration.capacity, bucket.tokens + max(0, seconds) * configuration.perSecond)
    }
}
