import Foundation
import Hummingbird
import PostgresNIO
import Testing
import ZvonokCore
import ZvonokStorage

/// The official registry of schools (issue 20): uploaded by the ministry as JSON or CSV, matched against the region's
/// schools by `officialId`, and from then on the denominator of `schoolsShare` and of `schoolsUsingShare` — in the
/// week of the upload and later, never a finished week.
@Suite struct OfficialRegistryTests {
    static let registry = """
        [{"officialId": "R1", "name": "Школа №1", "municipality": "Омск"}, {"officialId": "R2", "name": "Гимназия", "municipality": "Омск"},
         {"officialId": "R3", "name": "Лицей"}, {"officialId": "R4", "name": "Школа №9", "municipality": "Тара"}]
        """

    func rating(_ api: APIClient, _ query: String) async throws -> [[String: Any]] {
        try await expect(api.get("/v1/ratings/weekly?\(query)", token: api.ministryToken), .ok).items
    }

    func row(_ items: [[String: Any]], _ key: String) throws -> [String: Any] {
        try #require(items.first { ($0["code"] as? String ?? $0["id"] as? String) == key })
    }

    @Test func anUploadMatchesSchoolsAndChangesTheShares() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let week = RatingWeek.containing(Date())
            // The structure existed last week too, so that week has a row to compare.
            try await withRunningDatabase(api.databaseURL) { db in
                for table in ["regions", "municipalities", "schools", "classes"] {
                    try await db.query(PostgresQuery(unsafeSQL: "UPDATE \(table) SET created_at = now() - interval '30 days'"))
                }
            }
            let chat = try #require(
                try await api.get("/v1/me/chats", token: school.token("teacher5")).items.first { $0["title"] as? String == "5А класс" }?["id"]
                    as? String)
            try await withSocket(api, token: school.token("teacher5")) { socket, _ in
                try await socket.send(["type": "send", "chat": chat, "cid": "x", "text": "Урок перенесён"])
                _ = try await socket.next("ack")
            }
            let before = try row(try await rating(api, "week=\(week)&level=region"), "55")
            #expect(before["schoolsShare"] as? Double == 0.5 && before["denominatorOfficial"] as? Bool == false)
            #expect(before["schoolsUsingShare"] == nil && before["schoolsOfficial"] == nil)

            let patched = try await expect(
                api.call(.patch, "/v1/schools/\(school.id("school"))", token: school.token("municipal"), json: ["officialId": "R1"]), .ok)
            #expect(patched.string("officialId") == "R1" && patched.string("name") == "Школа №1")
            let uploaded = try await expect(
                api.send(.put, "/v1/regions/55/registry", token: api.ministryToken, body: Self.registry, contentType: "application/json"), .ok)
            #expect(uploaded["entries"] as? Int == 4 && uploaded["matched"] as? Int == 1)
            #expect((uploaded["registryOnly"] as? [[String: Any]])?.compactMap { $0["officialId"] as? String } == ["R2", "R3", "R4"])
            #expect((uploaded["schoolsOnly"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [school.id("otherSchool")])
            let mismatches = try await expect(api.get("/v1/regions/55/registry/mismatches", token: school.token("regional")), .ok)
            #expect(mismatches["matched"] as? Int == 1 && mismatches.string("uploadedAt") == uploaded.string("uploadedAt"))

            // 1 registered school of the 4 in the registry; its teacher wrote this week, so 1 of 4 uses the platform.
            let after = try row(try await rating(api, "week=\(week)&level=region"), "55")
            #expect(after["schoolsOfficial"] as? Int == 4 && after["denominatorOfficial"] as? Bool == true)
            #expect(after["schoolsShare"] as? Double == 0.25 && after["schoolsUsingShare"] as? Double == 0.25)
            #expect(after["schoolsListed"] as? Int == 2, "the listed count stays what the region listed")
            let municipalities = try await rating(api, "week=\(week)&level=municipality&region=55")
            let omsk = try row(municipalities, school.id("municipality")), tara = try row(municipalities, school.id("otherMunicipality"))
            #expect(omsk["schoolsOfficial"] as? Int == 2 && omsk["schoolsShare"] as? Double == 0.5)
            #expect(tara["schoolsOfficial"] as? Int == 1 && tara["schoolsShare"] as? Double == 0, "Тара's one registry school is not on Zvonok")

            // The week before had no registry in force: it reads as it did.
            let finished = try row(try await rating(api, "week=\(week.previous)&level=region"), "55")
            #expect(finished["denominatorOfficial"] as? Bool == false)

            let csv = "officialId;name;municipality\r\nR1;Школа №1;Омск\r\n\"R5\";\"Школа \"\"Новая\"\"\";\r\n"
            let replaced = try await expect(
                api.send(.put, "/v1/regions/55/registry", token: api.ministryToken, body: csv, contentType: "text/csv"), .ok)
            #expect(replaced["entries"] as? Int == 2)
            #expect((replaced["registryOnly"] as? [[String: Any]])?.first?["name"] as? String == "Школа \"Новая\"")
            #expect(try row(try await rating(api, "week=\(week)&level=region"), "55")["schoolsShare"] as? Double == 0.5)
        }
    }

    @Test func badUploadsAndCallersAreRefused() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let ministry = api.ministryToken
            for (body, type) in [
                ("{\"officialId\": \"R1\"}", "application/json"), ("[]", "application/json"),
                ("[{\"officialId\": \"R1\", \"name\": \"А\"}, {\"officialId\": \"R1\", \"name\": \"Б\"}]", "application/json"),
                ("[{\"officialId\": \" \", \"name\": \"А\"}]", "application/json"), ("id;name\r\nR1;А\r\n", "text/csv"),
                ("officialId,name\r\nR1,\r\n", "text/csv"), ("R1", "text/plain"),
            ] {
                let answer = try await expect(api.send(.put, "/v1/regions/55/registry", token: ministry, body: body, contentType: type), .badRequest)
                #expect(answer.errorCode == "invalid_argument", "\(body)")
            }
            let valid = "[{\"officialId\": \"R1\", \"name\": \"А\"}]"
            try await expect(
                api.send(.put, "/v1/regions/55/registry", token: school.token("regional"), body: valid, contentType: "application/json"), .forbidden)
            try await expect(api.send(.put, "/v1/regions/56/registry", token: ministry, body: valid, contentType: "application/json"), .notFound)
            try await expect(api.get("/v1/regions/55/registry/mismatches", token: ministry), .notFound)
            try await expect(api.get("/v1/regions/55/registry/mismatches", token: school.token("schoolAdmin")), .forbidden)

            let path = "/v1/schools/\(school.id("school"))"
            try await expect(api.call(.patch, path, token: school.token("municipal"), json: ["officialId": "R1"]), .ok)
            let taken = try await expect(
                api.call(.patch, "/v1/schools/\(school.id("otherSchool"))", token: school.token("regional"), json: ["officialId": "R1"]), .conflict)
            #expect(taken.errorCode == "conflict")
            try await expect(api.call(.patch, path, token: school.token("municipal"), json: [:]), .badRequest)
            try await expect(api.call(.patch, path, token: school.token("schoolAdmin"), json: ["officialId": "R2"]), .forbidden)
            let cleared = try await expect(api.call(.patch, path, token: school.token("municipal"), json: ["officialId": ""]), .ok)
            #expect(cleared["officialId"] == nil)
        }
    }
}
