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

    /// The ratings of the `weeks` weeks ending with the query's week, oldest first, each exactly as
    /// `rating(_:for:)` answers it. Weeks that ended more than `settled` ago are counted once and then kept in
    /// memory (a finished week never changes; the margin lets the activity queued in its last seconds be applied);
    /// the newest week is always counted afresh, so names are today's.
    public func trend(
        _ query: RatingQuery, weeks: Int, for caller: Identity, now: Date = Date(), settled: TimeInterval = 3600
    )
        async throws -> [Rating]
    {
        let scope = try await scope(of: query, for: caller)
        var series: [RatingWeek] = [query.week]
        while series.count < weeks { series.insert(series[0].previous, at: 0) }
        var ratings: [Rating] = []
        for week in series {
            let key = FrozenWeeks.Key(level: query.level, week: week, region: scope.countedRegion)
            let isFrozen = week != query.week && week.end.addingTimeInterval(settled) < now
            var cached: [RatingUnit]?
            if isFrozen { cached = await frozen.units(key) }
            let rating = try await counted(query.level, week: week, scope: scope, partial: week == query.currentWeek, units: cached)
            if isFrozen, cached == nil { await frozen.keep(rating.items.map(\.unit), for: key) }
            ratings.append(rating.filtered(scope.shows))
        }
        return ratings
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
