import Testing

@testable import ZvonokCore

@Suite struct RatingScopeTests {
    let omsk = Municipality(id: 1, regionCode: "55", name: "Омск", externalID: nil)
    let tara = Municipality(id: 2, regionCode: "55", name: "Тара", externalID: nil)

    func person(_ role: Role, region: String? = "55", municipality: Int64? = nil, school: Int64? = nil) -> Identity {
        Identity(personID: 1, role: role, name: "x", regionCode: region, municipalityID: municipality, schoolID: school, classID: nil)
    }

    func unit(_ key: String, region: String = "55", municipality: Int64? = nil) -> RatingUnit {
        RatingUnit(key: key, name: key, regionCode: region, municipalityID: municipality)
    }

    @Test func theMinistrySeesEverythingAndNamesTheRegionBelowTheRegionLevel() throws {
        let ministry = person(.ministry, region: nil)
        let all = try RatingScope(caller: ministry, level: .region, region: nil, municipality: nil)
        #expect(all.countedRegion == nil && all.shows(unit("55")) && all.shows(unit("77", region: "77")))
        let one = try RatingScope(caller: ministry, level: .region, region: "77", municipality: nil)
        #expect(one.countedRegion == nil && !one.shows(unit("55")) && one.shows(unit("77", region: "77")))
        #expect(throws: ZvonokError.invalidArgument("name a region (region=55) or a municipality for the school level")) {
            try RatingScope(caller: ministry, level: .school, region: nil, municipality: nil)
        }
        let schools = try RatingScope(caller: ministry, level: .school, region: nil, municipality: tara)
        #expect(schools.countedRegion == "55" && schools.shows(unit("9", municipality: 2)) && !schools.shows(unit("8", municipality: 1)))
        #expect(throws: ZvonokError.self) { try RatingScope(caller: ministry, level: .school, region: "77", municipality: tara) }
        #expect(throws: ZvonokError.self) { try RatingScope(caller: ministry, level: .region, region: nil, municipality: tara) }
    }

    @Test func aRegionalAdminSeesTheirRegionOnly() throws {
        let regional = person(.regionalAdmin)
        let regions = try RatingScope(caller: regional, level: .region, region: nil, municipality: nil)
        #expect(regions.countedRegion == nil && regions.shows(unit("55")) && !regions.shows(unit("77", region: "77")))
        let schools = try RatingScope(caller: regional, level: .school, region: nil, municipality: nil)
        #expect(schools.countedRegion == "55" && schools.onlyMunicipality == nil)
        #expect(throws: ZvonokError.forbidden("outside your part of the structure")) {
            try RatingScope(caller: regional, level: .region, region: "77", municipality: nil)
        }
        #expect(throws: ZvonokError.self) {
            try RatingScope(
                caller: regional, level: .school, region: nil, municipality: Municipality(id: 5, regionCode: "77", name: "М", externalID: nil))
        }
    }

    @Test func aMunicipalAdminSeesTheirMunicipalityOnly() throws {
        let municipal = person(.municipalAdmin, municipality: 1)
        #expect(throws: ZvonokError.self) { try RatingScope(caller: municipal, level: .region, region: nil, municipality: nil) }
        let municipalities = try RatingScope(caller: municipal, level: .municipality, region: nil, municipality: nil)
        #expect(municipalities.countedRegion == "55" && municipalities.shows(unit("1")) && !municipalities.shows(unit("2")))
        let schools = try RatingScope(caller: municipal, level: .school, region: "55", municipality: nil)
        #expect(schools.shows(unit("8", municipality: 1)) && !schools.shows(unit("9", municipality: 2)))
        #expect(throws: ZvonokError.self) { try RatingScope(caller: municipal, level: .school, region: nil, municipality: tara) }
        #expect(throws: ZvonokError.self) { try RatingScope(caller: municipal, level: .school, region: "77", municipality: nil) }
    }

    @Test func everyoneElseIsForbidden() {
        for role in [Role.schoolAdmin, .teacher, .student, .guardian] {
            #expect(throws: ZvonokError.forbidden("the rating is for the ministry and for regional and municipal admins")) {
                try RatingScope(caller: person(role, municipality: 1, school: 3), level: .school, region: nil, municipality: nil)
            }
        }
    }
}
