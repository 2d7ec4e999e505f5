/// A school's quiet hours (issue 18): from `from` to `to` local time in its region's time zone, notifications to the
/// roles in `applies` are held and summarised when they end. `from` after `to` spans midnight; equal means none.
public struct QuietHours: Sendable, Equatable {
    /// Minutes after local midnight.
    public let from: Int
    public let to: Int
    public let applies: [Role]

    /// What a school has until it sets its own: 21:00–07:00 for students and guardians.
    public static let `default` = QuietHours(from: 21 * 60, to: 7 * 60, applies: [.guardian, .student])

    public init(from: Int, to: Int, applies: [Role]) {
        self.from = from
        self.to = to
        self.applies = applies
    }

    /// Parses the API's form: times as `HH:MM` (24-hour) and role names; `invalid_argument` for anything else.
    public init(from: String, to: String, applies: [String]) throws(ZvonokError) {
        let roles = try applies.map { name throws(ZvonokError) in
            guard let role = Role(rawValue: name), !role.isAdmin, role != .ministry else {
                throw .invalidArgument("applies takes student, guardian and teacher")
            }
            return role
        }
        self.init(
            from: try Self.minutes(from, "from"), to: try Self.minutes(to, "to"), applies: Array(Set(roles)).sorted { $0.rawValue < $1.rawValue })
    }

    /// `HH:MM` of a minute of the day.
    public static func clock(_ minutes: Int) -> String {
        let hours = minutes / 60, rest = minutes % 60
        return (hours < 10 ? "0" : "") + "\(hours):" + (rest < 10 ? "0" : "") + "\(rest)"
    }

    private static func minutes(_ text: String, _ field: String) throws(ZvonokError) -> Int {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }), let hours = Int(parts[0]),
            let minutes = Int(parts[1]),
            (0..<24).contains(hours), (0..<60).contains(minutes)
        else { throw .invalidArgument("\(field) must be a time as HH:MM") }
        return hours * 60 + minutes
    }
}
