import Hummingbird
import ZvonokCore
import ZvonokStorage

/// The rollover into the next school year (issue 20): of one school, or of every school of a municipality or region,
/// school by school.
struct RolloverRoutes {
    let api: APIContext

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        let v1 = router.group("v1")
        v1.post("schools/:id/rollover", use: rollOverSchool)
        v1.post("municipalities/:id/rollover", use: rollOverMunicipality)
        v1.post("regions/:code/rollover", use: rollOverRegion)
    }

    /// `POST /v1/schools/{id}/rollover` `{from, to, dryRun, graduatingGrades?}`: for the school's admins and up.
    @Sendable func rollOverSchool(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.RolloverBody {
        let caller = try context.requireIdentity()
        let school = try await api.school(try request.id("id", .school, context: context))
        try caller.requireAdministers(school.placement)
        let (rollover, dryRun) = try await body(of: request, context: context)
        return try await rollOver(school, rollover, dryRun: dryRun, by: caller)
    }

    /// `POST /v1/municipalities/{id}/rollover`: every school of the municipality, for its admins and up.
    @Sendable func rollOverMunicipality(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.AreaRolloverBody {
        let caller = try context.requireIdentity()
        let municipality = try await api.municipality(try request.id("id", .municipality, context: context))
        try caller.requireAdministers(municipality.placement)
        return try await rollOverSchools(of: municipality.regionCode, municipality.id, request, context: context, by: caller)
    }

    /// `POST /v1/regions/{code}/rollover`: every school of the region, for its admins.
    @Sendable func rollOverRegion(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.AreaRolloverBody {
        let caller = try context.requireIdentity()
        let region = try await api.region(context.parameters.get("code") ?? "")
        try caller.requireAdministers(Placement(regionCode: region.code))
        return try await rollOverSchools(of: region.code, nil, request, context: context, by: caller)
    }

    /// One school after another, each in its own transaction: a school refused (409) stops the run there, and the
    /// schools before it stay rolled over; calling again carries on, since a school already rolled over changes nothing.
    private func rollOverSchools(
        of regionCode: String, _ municipalityID: Int64?, _ request: Request, context: ZvonokRequestContext, by caller: Identity
    ) async throws -> Wire.AreaRolloverBody {
        let (rollover, dryRun) = try await body(of: request, context: context)
        var plans: [Wire.RolloverBody] = []
        for school in try await api.structure.schools(regionCode: regionCode, municipalityID: municipalityID) {
            plans.append(try await rollOver(school, rollover, dryRun: dryRun, by: caller))
        }
        return Wire.AreaRolloverBody(from: rollover.from, to: rollover.to, dryRun: dryRun, schools: plans)
    }

    private func rollOver(_ school: School, _ rollover: RolloverRequest, dryRun: Bool, by caller: Identity) async throws -> Wire.RolloverBody {
        let plan = try await api.access.rollover(
            school, rollover, dryRun: dryRun, archiveReadable: api.configuration.graduateArchiveReadable, by: caller)
        return Wire.RolloverBody(plan, dryRun: dryRun)
    }

    private func body(of request: Request, context: ZvonokRequestContext) async throws -> (RolloverRequest, Bool) {
        let body = try await request.decodeBody(Body.Rollover.self, context: context)
        return (try RolloverRequest(from: body.from, to: body.to, graduatingGrades: body.graduatingGrades), body.dryRun)
    }
}
