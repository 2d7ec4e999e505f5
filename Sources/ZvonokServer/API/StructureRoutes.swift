import Hummingbird
import ZvonokCore
import ZvonokStorage

/// Regions, municipalities, schools and classes (contract §3).
struct StructureRoutes {
    let api: APIContext

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        let v1 = router.group("v1")
        v1.post("regions", use: createRegion)
        v1.get("regions", use: listRegions)
        v1.get("regions/:code", use: getRegion)
        v1.patch("regions/:code", use: renameRegion)
        v1.delete("regions/:code", use: removeRegion)
        v1.post("regions/:code/municipalities", use: createMunicipality)
        v1.get("regions/:code/municipalities", use: listMunicipalities)
        v1.get("municipalities/:id", use: getMunicipality)
        v1.patch("municipalities/:id", use: renameMunicipality)
        v1.delete("municipalities/:id", use: removeMunicipality)
        v1.post("municipalities/:id/schools", use: createSchool)
        v1.get("municipalities/:id/schools", use: listSchools)
        v1.get("schools/:id", use: getSchool)
        v1.patch("schools/:id", use: changeSchool)
        v1.delete("schools/:id", use: removeSchool)
        v1.post("schools/:id/classes", use: createClass)
        v1.get("schools/:id/classes", use: listClasses)
        v1.get("classes/:id", use: getClass)
        v1.patch("classes/:id", use: renameClass)
        v1.delete("classes/:id", use: removeClass)
    }

    @Sendable func createRegion(_ request: Request, context: ZvonokRequestContext) async throws -> EditedResponse<Wire.RegionBody> {
        let caller = try context.requireIdentity()
        guard caller.role == .ministry else { throw ZvonokError.forbidden("only the ministry creates regions") }
        let body = try await request.decodeBody(Body.NewRegion.self, context: context)
        let region = try await api.structure.createRegion(
            code: try Validation.regionCode(body.code), name: try Validation.name(body.name), by: caller)
        return EditedResponse(status: .created, response: Wire.RegionBody(region))
    }

    @Sendable func listRegions(_ request: Request, context: ZvonokRequestContext) async throws -> Page<Wire.RegionBody> {
        let caller = try context.requireIdentity()
        let only: String?
        switch caller.role {
        case .ministry: only = nil
        case .regionalAdmin: only = caller.regionCode
        default: throw ZvonokError.forbidden("only the ministry and regional admins list regions")
        }
        let page = try PageRequest(request)
        let regions = try await api.structure.regions(after: page.after, only: only, limit: page.limit)
        return page.page(regions, key: \.code, wire: Wire.RegionBody.init)
    }

    @Sendable func getRegion(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.RegionBody {
        let region = try await oversee(regionAt: request, context: context)
        return Wire.RegionBody(region)
    }

    @Sendable func createMunicipality(_ request: Request, context: ZvonokRequestContext) async throws -> EditedResponse<Wire.MunicipalityBody> {
        let caller = try context.requireIdentity()
        let region = try await api.region(context.parameters.get("code") ?? "")
        try caller.requireAdministers(Placement(regionCode: region.code))
        let body = try await request.decodeBody(Body.NewNamed.self, context: context)
        let municipality = try await api.structure.createMunicipality(
            regionCode: region.code, name: try Validation.name(body.name), externalID: try Validation.externalID(body.externalId), by: caller
        )
        return EditedResponse(status: .created, response: Wire.MunicipalityBody(municipality))
    }

    @Sendable func listMunicipalities(_ request: Request, context: ZvonokRequestContext) async throws -> Page<Wire.MunicipalityBody> {
        let region = try await oversee(regionAt: request, context: context)
        let page = try PageRequest(request)
        let municipalities = try await api.structure.municipalities(regionCode: region.code, after: try page.afterID(), limit: page.limit)
        return page.page(municipalities, key: { String($0.id) }, wire: Wire.MunicipalityBody.init)
    }

    @Sendable func getMunicipality(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.MunicipalityBody {
        Wire.MunicipalityBody(try await oversee(municipalityAt: request, context: context))
    }

    /// `PATCH /v1/regions/{code}` `{name}`: for those who may create it (the ministry).
    @Sendable func renameRegion(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.RegionBody {
        let caller = try context.requireIdentity()
        let region = try await api.region(context.parameters.get("code") ?? "")
        guard caller.role == .ministry else { throw ZvonokError.forbidden("only the ministry renames regions") }
        let name = try Validation.name(try await request.decodeBody(Body.Renamed.self, context: context).name)
        return Wire.RegionBody(try await api.structure.rename(region, to: name, by: caller))
    }

    /// `DELETE /v1/regions/{code}`: an empty region (no municipalities, no regional admins), by the ministry.
    @Sendable func removeRegion(_ request: Request, context: ZvonokRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.requireIdentity()
        let region = try await api.region(context.parameters.get("code") ?? "")
        guard caller.role == .ministry else { throw ZvonokError.forbidden("only the ministry removes regions") }
        try await api.structure.remove(region, by: caller)
        return .noContent
    }

    /// `DELETE /v1/municipalities/{id}`: an empty municipality (no schools, no municipal admins), by the admins of its
    /// region.
    @Sendable func removeMunicipality(_ request: Request, context: ZvonokRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.requireIdentity()
        let municipality = try await api.municipality(try request.id("id", .municipality, context: context))
        try caller.requireAdministers(Placement(regionCode: municipality.regionCode))
        try await api.structure.remove(municipality, by: caller)
        return .noContent
    }

    /// `DELETE /v1/schools/{id}`: an empty school (no classes, no people), by the admins of its municipality and
    /// region.
    @Sendable func removeSchool(_ request: Request, context: ZvonokRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.requireIdentity()
        let school = try await api.school(try request.id("id", .school, context: context))
        try caller.requireAdministers(Placement(regionCode: school.regionCode, municipalityID: school.municipalityID))
        try await api.structure.remove(school, by: caller)
        return .noContent
    }

    /// `PATCH /v1/classes/{id}` `{name}` ("5Б"): a new grade and letter, for those who may create it (the admins of its
    /// school and above).
    @Sendable func renameClass(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.ClassBody {
        let caller = try context.requireIdentity()
        let (schoolClass, school) = try await api.schoolClass(try request.id("id", .class, context: context))
        try caller.requireAdministers(school.placement)
        let name = try Validation.className(try await request.decodeBody(Body.Renamed.self, context: context).name)
        return Wire.ClassBody(try await api.structure.rename(schoolClass, in: school, grade: name.grade, letter: name.letter, by: caller))
    }

    /// `DELETE /v1/classes/{id}`: an empty class (no students, no teacher assignments), by the admins of its school and
    /// above. Its chats are archived.
    @Sendable func removeClass(_ request: Request, context: ZvonokRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.requireIdentity()
        let (schoolClass, school) = try await api.schoolClass(try request.id("id", .class, context: context))
        try caller.requireAdministers(school.placement)
        try await api.structure.remove(schoolClass, in: school, by: caller)
        return .noContent
    }

    /// `PATCH /v1/municipalities/{id}` `{name}`: for those who may create it (regional admins of its region).
    @Sendable func renameMunicipality(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.MunicipalityBody {
        let caller = try context.requireIdentity()
        let municipality = try await api.municipality(try request.id("id", .municipality, context: context))
        try caller.requireAdministers(Placement(regionCode: municipality.regionCode))
        let name = try Validation.name(try await request.decodeBody(Body.Renamed.self, context: context).name)
        return Wire.MunicipalityBody(try await api.structure.rename(municipality, to: name, by: caller))
    }

    /// `PATCH /v1/schools/{id}` `{name?, officialId?}`: a new name, or its number in the official registry (issue 20;
    /// `""` clears it), for those who may create it (admins of its municipality and above).
    @Sendable func changeSchool(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.SchoolBody {
        let caller = try context.requireIdentity()
        var school = try await api.school(try request.id("id", .school, context: context))
        try caller.requireAdministers(Placement(regionCode: school.regionCode, municipalityID: school.municipalityID))
        let body = try await request.decodeBody(Body.SchoolChange.self, context: context)
        guard body.name != nil || body.officialId != nil else { throw ZvonokError.invalidArgument("give a name, an officialId or both") }
        let name = try body.name.map { try Validation.name($0) }
        let officialID = try body.officialId.map { $0.isEmpty ? nil : try Validation.externalID($0, field: "officialId") }
        if let officialID { school = try await api.structure.setOfficialID(school, to: officialID, by: caller) }
        if let name { school = try await api.structure.rename(school, to: name, by: caller) }
        return Wire.SchoolBody(school)
    }

    @Sendable func createSchool(_ request: Request, context: ZvonokRequestContext) async throws -> EditedResponse<Wire.SchoolBody> {
        let caller = try context.requireIdentity()
        let municipality = try await api.municipality(try request.id("id", .municipality, context: context))
        try caller.requireAdministers(municipality.placement)
        let body = try await request.decodeBody(Body.NewNamed.self, context: context)
        let school = try await api.structure.createSchool(
            in: municipality, name: try Validation.name(body.name), externalID: try Validation.externalID(body.externalId), by: caller
        )
        return EditedResponse(status: .created, response: Wire.SchoolBody(school))
    }

    @Sendable func listSchools(_ request: Request, context: ZvonokRequestContext) async throws -> Page<Wire.SchoolBody> {
        let municipality = try await oversee(municipalityAt: request, context: context)
        let page = try PageRequest(request)
        let schools = try await api.structure.schools(municipalityID: municipality.id, after: try page.afterID(), limit: page.limit)
        return page.page(schools, key: { String($0.id) }, wire: Wire.SchoolBody.init)
    }

    @Sendable func getSchool(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.SchoolBody {
        Wire.SchoolBody(try await oversee(schoolAt: request, context: context))
    }

    @Sendable func createClass(_ request: Request, context: ZvonokRequestContext) async throws -> EditedResponse<Wire.ClassBody> {
        let caller = try context.requireIdentity()
        let school = try await api.school(try request.id("id", .school, context: context))
        try caller.requireAdministers(school.placement)
        let body = try await request.decodeBody(Body.NewClass.self, context: context)
        let schoolClass = try await api.structure.createClass(
            in: school, grade: try Validation.grade(body.grade), letter: try Validation.classLetter(body.letter),
            year: try Validation.schoolYear(body.year), externalID: try Validation.externalID(body.externalId), by: caller
        )
        return EditedResponse(status: .created, response: Wire.ClassBody(schoolClass))
    }

    @Sendable func listClasses(_ request: Request, context: ZvonokRequestContext) async throws -> Page<Wire.ClassBody> {
        let school = try await oversee(schoolAt: request, context: context)
        let page = try PageRequest(request)
        let classes = try await api.structure.classes(schoolID: school.id, after: try page.afterID(), limit: page.limit)
        return page.page(classes, key: { String($0.id) }, wire: Wire.ClassBody.init)
    }

    @Sendable func getClass(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.ClassBody {
        let caller = try context.requireIdentity()
        let (schoolClass, school) = try await api.schoolClass(try request.id("id", .class, context: context))
        try caller.requireOversees(school.placement)
        return Wire.ClassBody(schoolClass)
    }

    // MARK: Look-ups that also check the caller may read

    private func oversee(regionAt request: Request, context: ZvonokRequestContext) async throws -> Region {
        let caller = try context.requireIdentity()
        let region = try await api.region(context.parameters.get("code") ?? "")
        try caller.requireOversees(Placement(regionCode: region.code))
        return region
    }

    private func oversee(municipalityAt request: Request, context: ZvonokRequestContext) async throws -> Municipality {
        let caller = try context.requireIdentity()
        let municipality = try await api.municipality(try request.id("id", .municipality, context: context))
        try caller.requireOversees(municipality.placement)
        return municipality
    }

    private func oversee(schoolAt request: Request, context: ZvonokRequestContext) async throws -> School {
        let caller = try context.requireIdentity()
        let school = try await api.school(try request.id("id", .school, context: context))
        try caller.requireOversees(school.placement)
        return school
    }
}
