import ZvonokCore

/// A token bucket per person for each limited kind of client frame (`ServerConfiguration.sendRate` and
/// `frameRates`): over their allowance, a frame is refused with `rate_limited` before it does any work.
struct FrameLimiters: Sendable {
    private let limiters: [FrameKind: RateLimiter]

    init(_ configuration: ServerConfiguration) {
        var rates = configuration.frameRates
        rates[.send] =
            configuration.sendRate > 0
            ? FrameRate(perSecond: configuration.sendRate, burst: configuration.sendBurst)
            : .unlimited
        limiters = rates.filter { !$0.value.isUnlimited }.mapValues { rate in
            RateLimiter(.init(capacity: Double(rate.burst), perSecond: rate.perSecond))
        }
    }

    /// Takes one of `person`'s tokens for a frame of `kind`; throws `rate_limited` when there is none.
    func admit(_ kind: FrameKind, from person: Int64) throws(ZvonokError) {
        guard let limiter = limiters[kind], !limiter.allow(String(person)) else { return }
        throw .rateLimited(kind == .send ? "too many messages; wait a moment" : "too many \(kind.rawValue) frames; wait a moment")
    }
}
