public import Foundation

/// An ISO week in Moscow time (UTC+3 all year round): Monday 00:00 MSK up to the next Monday 00:00 MSK. The rating
/// is computed for these (contract §6), and activity is kept per Moscow day, so a week is seven whole days.
public struct RatingWeek: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The ISO week-numbering year (which differs from the calendar year around New Year).
    public let year: Int
    /// 1 to 52 or 53.
    public let week: Int

    /// Moscow's offset from UTC. Russia has kept UTC+3 without daylight saving since 2014.
    public static let moscowOffsetSeconds = 3 * 3600

    public init(year: Int, week: Int) throws(ZvonokError) {
        guard (1970...9998).contains(year) else { throw .invalidArgument("week year must be between 1970 and 9998") }
        guard (1...Self.weeks(in: year)).contains(week) else {
            throw .invalidArgument("\(year) has weeks 1 to \(Self.weeks(in: year)), not \(week)")
        }
        self.year = year
        self.week = week
    }

    /// Parses `YYYY-Www`, as in `2026-W47`.
    public init(parsing text: String) throws(ZvonokError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 3, parts[1].first == "W",
            parts[0].allSatisfy({ $0.isASCII && $0.isNumber }), parts[1].dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }),
            let year = Int(parts[0]), let week = Int(parts[1].dropFirst())
        else { throw .invalidArgument("week must look like 2026-W47 (an ISO week), not '\(text)'") }
        try self.init(year: year, week: week)
    }

    /// The week that holds `date`, in Moscow time.
    public static func containing(_ date: Date) -> RatingWeek {
        containing(day: Int(((date.timeIntervalSince1970 + Double(moscowOffsetSeconds)) / 86400).rounded(.down)))
    }

    /// The week that holds the day `day` (days since 1970-01-01).
    static func containing(day: Int) -> RatingWeek {
        let monday = day - Self.weekday(day)
        // The ISO year is the calendar year of the week's Thursday.
        let year = Self.civil(monday + 3).year
        let week = (monday - Self.firstMonday(of: year)) / 7 + 1
        return try! RatingWeek(year: year, week: week)
    }

    public var description: String {
        "\(year)-W\(week < 10 ? "0" : "")\(week)"
    }

    /// The week's Monday as days since 1970-01-01.
    public var firstDay: Int { Self.firstMonday(of: year) + (week - 1) * 7 }

    /// The week's Monday as `YYYY-MM-DD`, the Moscow day the first activity of the week is kept under.
    public var firstDayText: String { Self.text(ofDay: firstDay) }

    /// The week's Sunday as `YYYY-MM-DD`.
    public var lastDayText: String { Self.text(ofDay: firstDay + 6) }

    /// Monday 00:00 MSK, the first instant of the week.
    public var start: Date { Date(timeIntervalSince1970: Double(firstDay * 86400 - Self.moscowOffsetSeconds)) }

    /// The next Monday 00:00 MSK: "by the end of the week" means strictly before this instant.
    public var end: Date { Date(timeIntervalSince1970: Double((firstDay + 7) * 86400 - Self.moscowOffsetSeconds)) }

    public var previous: RatingWeek { Self.containing(day: firstDay - 7) }
    public var next: RatingWeek { Self.containing(day: firstDay + 7) }

    public static func < (lhs: RatingWeek, rhs: RatingWeek) -> Bool { lhs.firstDay < rhs.firstDay }

    // MARK: Calendar arithmetic (proleptic Gregorian, days since 1970-01-01)

    /// 0 for Monday … 6 for Sunday; 1970-01-01 was a Thursday.
    static func weekday(_ day: Int) -> Int { ((day + 3) % 7 + 7) % 7 }

    /// The Monday of ISO week 1: the week that holds 4 January.
    static func firstMonday(of year: Int) -> Int {
        let january4 = days(year: year, month: 1, day: 4)
        return january4 - weekday(january4)
    }

    /// 53 when the year starts on a Thursday, or is a leap year starting on a Wednesday; otherwise 52.
    static func weeks(in year: Int) -> Int {
        (firstMonday(of: year + 1) - firstMonday(of: year)) / 7
    }

    /// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }

    /// The civil date of a day since 1970-01-01.
    static func civil(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let dayOfEra = z - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func text(ofDay day: Int) -> String {
        let (y, m, d) = civil(day)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(y)-\(two(m))-\(two(d))"
    }
}
