import Foundation
import Hummingbird
import PostgresNIO
import Testing
import ZvonokCore
import ZvonokStorage

/// `DELETE` of a class, school, municipality and region (issue 19, the admin console): only an empty unit goes, by the
/// level above it or higher; it leaves listings and look-ups, its chats are archived, and finished weeks of the rating
/// still count it.
@Suite struct StructureRemovalTests {
    @Test func anEmptyUnitIsRemovedAtEachLevel() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let regional = school.token("regional")
            let otherSchool = "/v1/schools/\(school.id("otherSchool"))"
            let created = try await expect(
                api.post("\(otherSchool)/classes", token: regional, ["grade": 7, "letter": "А", "year": "2026/2027"]), .created)
            let classID = try #require(created.string("id"))

            try await expect(api.call(.delete, "/v1/classes/\(classID)", token: regional), .noContent)
            try await expect(api.get("/v1/classes/\(classID)", token: regional), .notFound)
            #expect(try await api.get("\(otherSchool)/classes", token: regional).items.isEmpty)
            try await withRunningDatabase(api.databaseURL) { db in
                let id = try #require(PublicID.decode(.class, classID))
                let rows = try await db.query("SELECT count(*) FILTER (WHERE archived_at IS NULL), count(*) FROM chats WHERE class_id = \(id)")
                for try await (open, all) in rows.decode((Int, Int).self) { #expect(open == 0 && all == 2) }
            }
            // Its grade and letter may be used again.
            try await expect(api.post("\(otherSchool)/classes", token: regional, ["grade": 7, "letter": "А", "year": "2026/2027"]), .created)
            let again = try await api.get("\(otherSchool)/classes", token: regional).items
            try await expect(api.call(.delete, "/v1/classes/\(again[0]["id"] as? String ?? "")", token: regional), .noContent)

            try await expect(api.call(.delete, otherSchool, token: regional), .noContent)
            try await expect(api.get(otherSchool, token: regional), .notFound)
            let otherMunicipality = "/v1/municipalities/\(school.id("otherMunicipality"))"
            #expect(try await api.get("\(otherMunicipality)/schools", token: regional).items.isEmpty)

            try await expect(api.call(.delete, otherMunicipality, token: regional), .noContent)
            try await expect(api.get(otherMunicipality, token: regional), .notFound)
            let municipalities = try await api.get("/v1/regions/55/municipalities", token: regional).items.compactMap { $0["id"] as? String }
            #expect(municipalities == [school.id("municipality")])

            try await expect(api.post("/v1/regions", token: api.ministryToken, ["code": "56", "name": "Новая область"]), .created)
            try await expect(api.call(.delete, "/v1/regions/56", token: api.ministryToken), .noContent)
            try await expect(api.get("/v1/regions/56", token: api.ministryToken), .notFound)
            #expect(try await api.get("/v1/regions", token: api.ministryToken).items.compactMap { $0["code"] as? String } == ["55"])
            // A region's code is the country's: a removed region may be created again.
            try await expect(api.post("/v1/regions", token: api.ministryToken, ["code": "56", "name": "Снова"]), .created)
            #expect(try await api.get("/v1/regions/56", token: api.ministryToken).string("name") == "Снова")
            try await expect(api.post("/v1/regions", token: api.ministryToken, ["code": "56", "name": "Дважды"]), .conflict)

            let audit = try await api.get("/v1/audit", token: regional).items.compactMap { $0["action"] as? String }
            #expect(Set(audit).isSuperset(of: ["class.remove", "school.remove", "municipality.remove"]))
            let ministryAudit = try await api.get("/v1/audit?action=region.remove", token: api.ministryToken).items
            #expect(ministryAudit.first?["object"] as? String == "56")
        }
    }

    @Test func aUnitThatIsNotEmptyIsRefusedWithWhatHoldsIt() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let refusals: [(String, String, String)] = [
                ("/v1/classes/\(school.id("class5"))", "schoolAdmin", "the class still has 2 students and 1 teacher assignment"),
                ("/v1/schools/\(school.id("school"))", "municipal", "the school still has 2 classes and 7 people"),
                ("/v1/municipalities/\(school.id("municipality"))", "regional", "the municipality still has 1 school and 1 municipal admin"),
                ("/v1/regions/55", "ministry", "the region still has 2 municipalities and 1 regional admin"),
            ]
            for (path, who, message) in refusals {
                let answer = try await expect(api.call(.delete, path, token: school.token(who)), .conflict)
                #expect(answer.errorCode == "conflict")
                let text = (answer["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(text.hasPrefix(message), "\(path): \(text)")
                try await expect(api.get(path, token: school.token(who)), .ok)
            }
            // Emptied, the class goes: its students moved to 6Б, its teacher unassigned.
            let class5 = "/v1/classes/\(school.id("class5"))"
            for student in ["student1", "student2"] {
                try await expect(
                    api.call(.patch, "/v1/people/\(school.id(student))", token: school.token("schoolAdmin"), json: ["classId": school.id("class6")]),
                    .ok)
            }
            let stillTaught = try await expect(api.call(.delete, class5, token: school.token("schoolAdmin")), .conflict)
            #expect(((stillTaught["error"] as? [String: Any])?["message"] as? String)?.contains("still has 1 teacher assignment:") == true)
            try await expect(
                api.call(.delete, "\(class5)/teachers/\(school.id("teacher5"))", token: school.token("schoolAdmin")), .noContent)
            try await expect(api.call(.delete, class5, token: school.token("schoolAdmin")), .noContent)
            try await expect(api.call(.delete, class5, token: school.token("schoolAdmin")), .notFound)
        }
    }

    @Test func onlyTheLevelAboveRemoves() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let otherSchool = "/v1/schools/\(school.id("otherSchool"))"
            let emptyClass = try await expect(
                api.post(
                    "/v1/schools/\(school.id("school"))/classes", token: school.token("schoolAdmin"),
                    ["grade": 9, "letter": "Д", "year": "2026/2027"]),
                .created)
            let classPath = "/v1/classes/\(emptyClass.string("id") ?? "")"
            let otherMunicipality = "/v1/municipalities/\(school.id("otherMunicipality"))"
            try await expect(api.call(.delete, classPath, token: school.token("teacher5")), .forbidden)
            try await expect(api.call(.delete, classPath, token: school.token("student1")), .forbidden)
            try await expect(api.call(.delete, classPath, token: api.ministryToken), .forbidden)
            try await expect(api.call(.delete, otherSchool, token: school.token("schoolAdmin")), .forbidden)
            try await expect(api.call(.delete, otherSchool, token: school.token("municipal")), .forbidden)
            try await expect(api.call(.delete, otherSchool, token: api.ministryToken), .forbidden)
            try await expect(api.call(.delete, otherMunicipality, token: school.token("municipal")), .forbidden)
            try await expect(api.call(.delete, otherMunicipality, token: api.ministryToken), .forbidden)
            try await expect(api.post("/v1/regions", token: api.ministryToken, ["code": "56", "name": "Пустая"]), .created)
            try await expect(api.call(.delete, "/v1/regions/56", token: school.token("regional")), .forbidden)
            try await expect(api.call(.delete, "/v1/regions/57", token: api.ministryToken), .notFound)
            try await expect(api.call(.delete, "/v1/classes/k999999", token: school.token("schoolAdmin")), .notFound)
            try await expect(api.call(.delete, "/v1/schools/s999999", token: school.token("regional")), .notFound)
            try await expect(api.call(.delete, "/v1/municipalities/m999999", token: school.token("regional")), .notFound)
            try await expect(api.call(.delete, classPath, token: nil), .unauthorized)
            // Still there, and removable by those who may.
            try await expect(api.call(.delete, classPath, token: school.token("schoolAdmin")), .noContent)
        }
    }

    /// A finished week counts a school that existed in it; from the week of its removal on, the rating leaves it out.
    @Test func finishedWeeksStillCountARemovedSchool() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let regional = school.token("regional")
            try await expect(api.call(.delete, "/v1/schools/\(school.id("otherSchool"))", token: regional), .noContent)
            let now = Date()
            let before = RatingWeek.containing(now.addingTimeInterval(-14 * 86400))
            let after = RatingWeek.containing(now.addingTimeInterval(-7 * 86400))
            try await withRunningDatabase(api.databaseURL) { db in
                var listed = PostgresBindings()
                listed.append(now.addingTimeInterval(-35 * 86400), context: .default)
                for table in ["regions", "municipalities", "schools", "classes"] {
                    try await db.query(PostgresQuery(unsafeSQL: "UPDATE \(table) SET created_at = $1", binds: listed))
                }
                let removed = now.addingTimeInterval(-7 * 86400)
                try await db.query("UPDATE schools SET removed_at = \(removed) WHERE removed_at IS NOT NULL")
            }
            func schools(_ week: RatingWeek) async throws -> [String] {
                try await expect(api.get("/v1/ratings/weekly?week=\(week)&level=school&region=55", token: regional), .ok)
                    .items.compactMap { $0["id"] as? String }
            }
            #expect(Set(try await schools(before)) == [school.id("school"), school.id("otherSchool")])
            #expect(try await schools(after) == [school.id("school")])
        }
    }
}
