import Foundation
import Hummingbird
import NIOCore
import ZvonokCore
import ZvonokStorage

/// `GET /v1/ratings/weekly`: the ministry's weekly rating (contract §6), as JSON or, for `Accept: text/csv`, CSV.
/// `GET /v1/ratings/weekly/trend`: the same rating for each of the last weeks, as lines to draw.
/// Who sees which rows is `RatingScope`'s to decide; the rules of every column are in `docs/rating.md`.
struct RatingRoutes {
    let ratings: WeeklyRatingService
    /// The clock that decides which week is in progress.
    var now: @Sendable () -> Date = { Date() }

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        router.get("v1/ratings/weekly", use: weekly)
        router.get("v1/ratings/weekly/trend", use: trend)
    }

    /// The weeks a trend spans at most: a year.
    static let maximumWeeks = 53

    private func query(_ request: Request) throws(ZvonokError) -> RatingQuery {
        let parameters = request.uri.queryParameters
        return try RatingQuery(
            level: parameters.get("level"), week: parameters.get("week"), region: parameters.get("region"),
            municipality: parameters.get("municipality"), now: now()
        )
    }

    @Sendable func trend(_ request: Request, context: ZvonokRequestContext) async throws -> Response {
        let caller = try context.requireIdentity()
        let query = try query(request)
        var weeks = 12
        if let text = request.uri.queryParameters.get("weeks") {
            guard let number = Int(text), (1...Self.maximumWeeks).contains(number) else {
                throw ZvonokError.invalidArgument("weeks must be 1 to \(Self.maximumWeeks)")
            }
            weeks = number
        }
        let series = try await ratings.trend(query, weeks: weeks, for: caller, now: now())
        return try Self.json(RatingTrendBody(series))
    }

    @Sendable func weekly(_ request: Request, context: ZvonokRequestContext) async throws -> Response {
        let caller = try context.requireIdentity()
        let rating = try await ratings.rating(try query(request), for: caller)
        if Self.wantsCSV(request) {
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/csv; charset=utf-8",
                    .contentDisposition: "attachment; filename=\"rating-\(rating.week)-\(rating.level.rawValue).csv\"",
                ],
                body: .init(byteBuffer: ByteBuffer(bytes: rating.csv))
            )
        }
        return try Self.json(RatingBody(rating))
    }

    /// Sorted keys: a past week answers byte for byte the same every time.
    static func json(_ body: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(body)))
        )
    }

    /// CSV when the client accepts `text/csv` (and does not put JSON first).
    static func wantsCSV(_ request: Request) -> Bool {
        let accept = request.headers[values: .accept].joined(separator: ",").lowercased()
        guard let csv = accept.range(of: "text/csv") else { return false }
        guard let json = accept.range(of: "application/json") else { return true }
        return csv.lowerBound < json.lowerBound
    }
}

/// The rating as JSON: `{week, level, formula, partial, items: [{code | id, name, …§6 columns, score, rank}]}`.
struct RatingBody: Encodable {
    /// An item's §6 columns, beside its `UnitLabel`.
    struct Columns: Encodable {
        let schoolsListed: Int
        let schoolsRegistered: Int
        let schoolsShare: Double
        let teachersListed: Int
        let teachersRegistered: Int
        let teachersShare: Double
        let teachersActive: Int
        let teachersActiveShare: Double
        let teachersEngaged: Int
        let teachersEngagedShare: Double
        let schoolsActive: Int
        let schoolsActiveShare: Double
        let studentsRegistered: Int
        let guardiansRegistered: Int
        let messages: Int
        let chatsActive: Int
        let score: Double
        let rank: Int
        /// The official registry's count of the unit's schools (issue 20), and whether `schoolsShare` divides by it.
        let schoolsOfficial: Int?
        let denominatorOfficial: Bool
        let schoolsUsingShare: Double?
    }

    let week: String
    let level: String
    let formula: String
    let partial: Bool
    let items: [Labelled<Columns>]

    init(_ rating: Rating) {
        week = rating.week.description
        level = rating.level.rawValue
        formula = rating.formula.description
        partial = rating.partial
        items = rating.items.map { item in
            let c = item.unit.counts
            return Labelled(
                UnitLabel(rating, item.unit),
                Columns(
                    schoolsListed: c.schoolsListed, schoolsRegistered: c.schoolsRegistered, schoolsShare: Self.number(item.schoolsShare),
                    teachersListed: c.teachersListed, teachersRegistered: c.teachersRegistered, teachersShare: Self.number(item.teachersShare),
                    teachersActive: c.teachersActive, teachersActiveShare: Self.number(item.teachersActiveShare),
                    teachersEngaged: c.teachersEngaged, teachersEngagedShare: Self.number(item.teachersEngagedShare),
                    schoolsActive: c.schoolsActive, schoolsActiveShare: Self.number(item.schoolsActiveShare),
                    studentsRegistered: c.studentsRegistered, guardiansRegistered: c.guardiansRegistered,
                    messages: c.messages, chatsActive: c.chatsActive,
                    score: Self.number(item.score), rank: item.rank,
                    schoolsOfficial: c.schoolsOfficial, denominatorOfficial: c.schoolsOfficial != nil,
                    schoolsUsingShare: item.schoolsUsingShare.map(Self.number)
                ))
        }
    }

    /// A rounded decimal as a JSON number. Parsed from its text, the double is the one nearest to it, which prints
    /// back as the same short decimal (0.3333, 66.67); NSDecimalNumber's doubleValue can miss by an ulp (66.670000000000001).
    static func number(_ value: Decimal) -> Double {
        Double(value.description) ?? 0
    }
}

/// How the API names a unit of a rating: `code` for a region, `id` (`m…`, `s…`) below, its name, its region and,
/// for a school, its municipality.
struct UnitLabel: Encodable {
    let code: String?
    let id: String?
    let name: String
    let regionCode: String?
    let municipalityId: String?

    init(_ rating: Rating, _ unit: RatingUnit) {
        let key = rating.key(of: unit)
        code = rating.level == .region ? key : nil
        id = rating.level == .region ? nil : key
        name = unit.name
        regionCode = rating.level == .region ? nil : unit.regionCode
        municipalityId = unit.municipalityID.map { PublicID.encode(.municipality, $0) }
    }
}

/// A unit's label and its figures as one JSON object (the fields of both side by side).
struct Labelled<Fields: Encodable>: Encodable {
    let label: UnitLabel
    let fields: Fields

    init(_ label: UnitLabel, _ fields: Fields) {
        self.label = label
        self.fields = fields
    }

    func encode(to encoder: any Encoder) throws {
        try label.encode(to: encoder)
        try fields.encode(to: encoder)
    }
}

/// The trend as JSON: `{level, formula, weeks, partial, items: [{code | id, name, …, points: [{week, score, rank,
/// …shares}]}]}`, the items in the order of the newest week's rating, each with a point for every week it was
/// counted in (a unit made during the span has none before).
struct RatingTrendBody: Encodable {
    struct Point: Encodable {
        let week: String
        let score: Double
        let rank: Int
        let schoolsShare: Double
        let teachersShare: Double
        let teachersActiveShare: Double
        let teachersEngagedShare: Double
        let schoolsActiveShare: Double
    }

    /// An item's weeks, beside its `UnitLabel`.
    struct Series: Encodable { let points: [Point] }

    let level: String
    let formula: String
    let weeks: [String]
    /// True when the newest week is the one in progress.
    let partial: Bool
    let items: [Labelled<Series>]

    /// - Parameter series: the ratings of consecutive weeks, oldest first.
    init(_ series: [Rating]) {
        let newest = series.last!
        level = newest.level.rawValue
        formula = newest.formula.description
        weeks = series.map(\.week.description)
        partial = newest.partial
        var points: [String: [Point]] = [:]
        for rating in series {
            for item in rating.items {
                points[rating.key(of: item.unit), default: []].append(
                    Point(
                        week: rating.week.description, score: RatingBody.number(item.score), rank: item.rank,
                        schoolsShare: RatingBody.number(item.schoolsShare), teachersShare: RatingBody.number(item.teachersShare),
                        teachersActiveShare: RatingBody.number(item.teachersActiveShare),
                        teachersEngagedShare: RatingBody.number(item.teachersEngagedShare),
                        schoolsActiveShare: RatingBody.number(item.schoolsActiveShare)))
            }
        }
        items = newest.items.map { item in
            Labelled(UnitLabel(newest, item.unit), Series(points: points[newest.key(of: item.unit)] ?? []))
        }
    }
}
