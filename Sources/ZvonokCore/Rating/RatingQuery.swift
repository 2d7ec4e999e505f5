public import Foundation

/// A request for the weekly rating as its callers spell it (the API's query string, `zvonok rating`'s options),
/// checked for everything that needs no database: the level, the week (by default the last complete one, never one
/// that has not begun), the region's form and the municipality's id.
public struct RatingQuery: Sendable, Equatable {
    public let level: RatingLevel
    public let week: RatingWeek
    /// The week in progress when the query was made: a rating of it is partial.
    public let currentWeek: RatingWeek
    /// A two-digit region code.
    public let region: String?
    /// The id of the municipality asked for, not yet looked up.
    public let municipalityID: Int64?

    public init(level: String?, week: String?, region: String?, municipality: String?, now: Date = Date()) throws(ZvonokError) {
        guard let level else { throw .invalidArgument("level is required: region, municipality or school") }
        guard let parsedLevel = RatingLevel(rawValue: level) else { throw .invalidArgument("level must be region, municipality or school") }
        let current = RatingWeek.containing(now)
        let parsedWeek = try week.map { text throws(ZvonokError) in try RatingWeek(parsing: text) } ?? current.previous
        guard parsedWeek <= current else { throw .invalidArgument("week \(parsedWeek) has not begun yet (the current week is \(current))") }
        if let region, region.count != 2 || !region.allSatisfy({ $0.isASCII && $0.isNumber }) {
            throw .invalidArgument("region must be a two-digit region code")
        }
        var municipalityID: Int64?
        if let municipality {
            guard parsedLevel != .region else { throw .invalidArgument("municipality narrows the municipality and school levels only") }
            guard let id = PublicID.decode(.municipality, municipality) else { throw .invalidArgument("municipality must be a municipality id (m…)") }
            municipalityID = id
        }
        (self.level, self.week, self.currentWeek, self.region, self.municipalityID) = (parsedLevel, parsedWeek, current, region, municipalityID)
    }
}
