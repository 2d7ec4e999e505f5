public import ZvonokCore

/// The weekly rating (contract §6) as one caller may see it: looks up the places a `RatingQuery` names, decides the
/// rows with `RatingScope`, counts with `RatingStore` and scores with `Rating`. `GET /v1/ratings/weekly` and
/// `zvonok rating` both ask it, so they cannot disagree.
public struct WeeklyRatingService: Sendable {
    let ratings: RatingStore
    let structure: StructureStore
    /// The weights of the score.
    public let formula: RatingFormula

    public init(database: Database, formula: RatingFormula) {
        ratings = RatingStore(database: database)
        structure = StructureStore(database: database)
        self.formula = formula
    }

    /// The rating `caller` asked for, with only the rows they may see; 404 for a region or municipality that does
    /// not exist.
    public func rating(_ query: RatingQuery, for caller: Identity) async throws -> Rating {
        var municipality: Municipality?
        if let id = query.municipalityID {
            guard let found = try await structure.municipality(id: id) else { throw ZvonokError.notFound("no such municipality") }
            municipality = found
        }
        let scope = try RatingScope(caller: caller, level: query.level, region: query.region, municipality: municipality)
        if let named = scope.countedRegion ?? scope.onlyRegion, try await structure.region(code: named) == nil {
            throw ZvonokError.notFound("no such region")
        }
        let units = try await ratings.units(query.level, week: query.week, region: scope.countedRegion)
        let rating = Rating(week: query.week, level: query.level, formula: formula, partial: query.week == query.currentWeek, units: units)
        return rating.filtered(scope.shows)
    }
}
