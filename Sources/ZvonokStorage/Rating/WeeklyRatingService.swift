public import Foundation
public import ZvonokCore

/// The weekly rating (contract §6) as one caller may see it: looks up the places a `RatingQuery` names, decides the
/// rows with `RatingScope`, counts with `RatingStore` and scores with `Rating`. `GET /v1/ratings/weekly`, its trend
/// and `zvonok rating` all ask it, so they cannot disagree.
public struct WeeklyRatingService: Sendable {
    let ratings: RatingStore
    let structure: StructureStore
    let frozen: FrozenWeeks
    /// The weights of the score.
    public let formula: RatingFormula

    public init(database: Database, formula: RatingFormula, frozen: FrozenWeeks = FrozenWeeks()) {
        ratings = RatingStore(database: database)
        structure = StructureStore(database: database)
        self.formula = formula
        self.frozen = frozen
    }

    /// The rating `caller` asked for, with only the rows they may see; 404 for a region or municipality that does
    /// not exist.
    public func rating(_ query: RatingQuery, for caller: Identity) async throws -> Rating {
        let scope = try await scope(of: query, for: caller)
        return try await counted(query.level, week: query.week, scope: scope, partial: query.week == query.currentWeek).filtered(scope.shows)
    }

    /// Weeks of a trend counted at once: PostgreSQL runs each count on one core, so a cold trend uses a few.
    static let weeksAtOnce = 3

    /// The ratings of the `weeks` weeks ending with the query's week, oldest first, each exactly as
    /// `rating(_:for:)` answers it. Weeks that ended more than `settled` ago are counted once and then kept in
    /// memory (a finished week never changes; the margin lets the activity queued in its last seconds be applied);
    /// the newest week is always counted afresh, so names are today's. Weeks not kept yet are counted a few at once.
    public func trend(
        _ query: RatingQuery, weeks: Int, for caller: Identity, now: Date = Date(), settled: TimeInterval = 3600
    )
        async throws -> [Rating]
    {
        let scope = try await scope(of: query, for: caller)
        var series: [RatingWeek] = [query.week]
        while series.count < weeks { series.insert(series[0].previous, at: 0) }
        var ratings = [Rating?](repeating: nil, count: series.count)
        try await withThrowingTaskGroup(of: (Int, Rating).self) { group in
            for (index, week) in series.enumerated() {
                if index >= Self.weeksAtOnce, let (done, rating) = try await group.next() { ratings[done] = rating }
                let isFrozen = week != query.week && week.end.addingTimeInterval(settled) < now
                group.addTask { (index, try await self.counted(week, of: query, scope: scope, keep: isFrozen)) }
            }
            for try await (done, rating) in group { ratings[done] = rating }
        }
        return ratings.map { $0!.filtered(scope.shows) }
    }

    /// One week of a trend, from the kept weeks when `keep` allows and it is there; counted and kept otherwise.
    private func counted(_ week: RatingWeek, of query: RatingQuery, scope: RatingScope, keep: Bool) async throws -> Rating {
        let key = FrozenWeeks.Key(level: query.level, week: week, region: scope.countedRegion)
        let cached = keep ? await frozen.units(key) : nil
        let rating = try await counted(query.level, week: week, scope: scope, partial: week == query.currentWeek, units: cached)
        if keep, cached == nil { await frozen.keep(rating.items.map(\.unit), for: key) }
        return rating
    }

    private func scope(of query: RatingQuery, for caller: Identity) async throws -> RatingScope {
        var municipality: Municipality?
        if let id = query.municipalityID {
            guard let found = try await structure.municipality(id: id) else { throw ZvonokError.notFound("no such municipality") }
            municipality = found
        }
        let scope = try RatingScope(caller: caller, level: query.level, region: query.region, municipality: municipality)
        if let named = scope.countedRegion ?? scope.onlyRegion, try await structure.region(code: named) == nil {
            throw ZvonokError.notFound("no such region")
        }
        return scope
    }

    /// The whole rating of a level and week, every unit ranked, from `units` when they were counted before.
    private func counted(
        _ level: RatingLevel, week: RatingWeek, scope: RatingScope, partial: Bool, units: [RatingUnit]? = nil
    ) async throws
        -> Rating
    {
        let counted: [RatingUnit]
        if let units { counted = units } else { counted = try await ratings.units(level, week: week, region: scope.countedRegion) }
        return Rating(week: week, level: level, formula: formula, partial: partial, units: counted)
    }
}
