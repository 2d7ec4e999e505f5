public import Foundation

/// How long Zvonok keeps what it holds (issue 20; 152-FZ keeps personal data only while the purpose lasts). Each
/// period is a server option; the defaults are documented in the README.
public struct RetentionPolicy: Sendable, Equatable {
    /// School years of history kept, the current one included: 2 keeps the current and the previous school year
    /// (from 1 September, UTC), and older months are dropped a whole partition at a time.
    public var schoolYearsOfHistory: Int = 2
    /// How long the text of a deleted message, and the revisions of edited or deleted ones, stay for moderators.
    public var moderationWindow: Duration = .seconds(30 * 86400)
    /// How long audit entries are kept.
    public var auditPeriod: Duration = .seconds(3 * 365 * 86400)
    /// How long after their removal (or graduation) a person's data is erased.
    public var erasureGrace: Duration = .seconds(30 * 86400)

    public init() {}

    /// The first moment of history kept at `now`: 1 September of the school year `schoolYearsOfHistory - 1` before
    /// the current one.
    public func historyStart(at now: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month], from: now)
        let currentStart = parts.month! >= 9 ? parts.year! : parts.year! - 1
        return calendar.date(from: DateComponents(year: currentStart - (schoolYearsOfHistory - 1), month: 9, day: 1))!
    }

    /// `now` less a period.
    static func before(_ now: Date, _ period: Duration) -> Date {
        now.addingTimeInterval(-Double(period.components.seconds))
    }
}
