/// The kinds of client frame that are limited per person (contract §5); `typing` is coalesced instead
/// (`MessagingHub.typingLimiter`).
public enum FrameKind: String, Sendable, CaseIterable {
    case send, edit, delete, read, sync, ping
}

/// How often one person may send one kind of frame, over all their connections: `burst` at once, then `perSecond`.
/// A rate of 0 lifts the limit.
public struct FrameRate: Sendable, Equatable {
    public var perSecond: Double
    public var burst: Int

    public init(perSecond: Double, burst: Int) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// No limit.
    public static let unlimited = FrameRate(perSecond: 0, burst: 1)

    public var isUnlimited: Bool { perSecond == 0 }

    /// Parses `RATE/BURST` (`2/20`: two a second after twenty at once), or `0` for no limit.
    public init(parsing text: String) throws(ZvonokError) {
        if text == "0" {
            self = .unlimited
            return
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let rate = Double(parts[0]), rate > 0, rate.isFinite, let burst = Int(parts[1]), burst >= 1 else {
            throw .invalidArgument("a frame limit is RATE/BURST, such as 2/20 (a rate above 0, a burst of at least 1), or 0 for none")
        }
        self.init(perSecond: rate, burst: burst)
    }

    /// The limits of every kind but `send` when no operator sets them (`send` has its own two settings).
    public static let defaults: [FrameKind: FrameRate] = [
        .edit: FrameRate(perSecond: 1, burst: 10),
        .delete: FrameRate(perSecond: 2, burst: 20),
        .read: FrameRate(perSecond: 5, burst: 50),
        .sync: FrameRate(perSecond: 5, burst: 100),
        .ping: FrameRate(perSecond: 2, burst: 100),
    ]
}
