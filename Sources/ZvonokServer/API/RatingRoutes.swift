import Foundation
import Hummingbird
import NIOCore
import ZvonokCore
import ZvonokStorage

/// `GET /v1/ratings/weekly`: the ministry's weekly rating (contract §6), as JSON or, for `Accept: text/csv`, CSV.
/// Who sees which rows is `RatingScope`'s to decide; the rules of every column are in `docs/rating.md`.
struct RatingRoutes {
    let ratings: WeeklyRatingService
    /// The clock that decides which week is in progress.
    var now: @Sendable () -> Date = { Date() }

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        router.get("v1/ratings/weekly", use: weekly)
    }

    @Sendable func weekly(_ request: Request, context: ZvonokRequestContext) async throws -> Response {
        let caller = try context.requireIdentity()
        let parameters = request.uri.queryParameters
        let query = try RatingQuery(
            level: parameters.get("level"), week: parameters.get("week"), region: parameters.get("region"),
            municipality: parameters.get("municipality"), now: now()
        )
        let rating = try await ratings.rating(query, for: caller)
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
        // Sorted keys: a past week answers byte for byte the same every time.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(RatingBody(rating))))
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
    struct Item: Encodable {
        let code: String?
        let id: String?
        let name: String
        let regionCode: String?
        let municipalityId: String?
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
    }

    let week: String
    let level: String
    let formula: String
    let partial: Bool
    let items: [Item]

    init(_ rating: Rating) {
        week = rating.week.description
        level = rating.level.rawValue
        formula = rating.formula.description
        partial = rating.partial
        items = rating.items.map { item in
            let c = item.unit.counts
            let key = rating.key(of: item.unit)
            return Item(
                code: rating.level == .region ? key : nil,
                id: rating.level == .region ? nil : key,
                name: item.unit.name,
                regionCode: rating.level == .region ? nil : item.unit.regionCode,
                municipalityId: item.unit.municipalityID.map { PublicID.encode(.municipality, $0) },
                schoolsListed: c.schoolsListed, schoolsRegistered: c.schoolsRegistered, schoolsShare: Self.number(item.schoolsShare),
                teachersListed: c.teachersListed, teachersRegistered: c.teachersRegistered, teachersShare: Self.number(item.teachersShare),
                teachersActive: c.teachersActive, teachersActiveShare: Self.number(item.teachersActiveShare),
                teachersEngaged: c.teachersEngaged, teachersEngagedShare: Self.number(item.teachersEngagedShare),
                schoolsActive: c.schoolsActive, schoolsActiveShare: Self.number(item.schoolsActiveShare),
                studentsRegistered: c.studentsRegistered, guardiansRegistered: c.guardiansRegistered,
                messages: c.messages, chatsActive: c.chatsActive,
                score: Self.number(item.score), rank: item.rank
            )
        }
    }

    /// A rounded decimal as a JSON number. Parsed from its text, the double is the one nearest to it, which prints
    /// back as the same short decimal (0.3333, 66.67); NSDecimalNumber's doubleValue can miss by an ulp (66.670000000000001).
    static func number(_ value: Decimal) -> Double {
        Double(value.description) ?? 0
    }
}
