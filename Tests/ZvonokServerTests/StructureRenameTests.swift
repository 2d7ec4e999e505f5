import Foundation
import Hummingbird
import Testing

/// `PATCH /v1/regions/{code}`, `/v1/municipalities/{id}`, `/v1/schools/{id}` and `/v1/classes/{id}` (issue 19, the
/// admin console's rename): the level above renames, the chats titled after the place follow, and the audit log keeps
/// the previous name.
@Suite struct StructureRenameTests {
    @Test func theLevelAboveRenamesAndTheChatsFollow() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let path = "/v1/schools/\(school.id("school"))"
            let renamed = try await expect(api.call(.patch, path, token: school.token("municipal"), json: ["name": "Лицей №1"]), .ok)
            #expect(renamed.string("name") == "Лицей №1")
            #expect(renamed.string("municipalityId") == school.id("municipality"))
            #expect(try await api.get(path, token: school.token("schoolAdmin")).string("name") == "Лицей №1")
            let titles = Set(try await api.get("/v1/me/chats", token: school.token("teacher5")).items.compactMap { $0["title"] as? String })
            #expect(titles.isSuperset(of: ["Лицей №1", "Лицей №1 — педагоги"]))
            #expect(!titles.contains("Школа №1"))
            let audit = try await api.get("/v1/audit?action=school.rename", token: school.token("municipal")).items
            #expect((audit.first?["details"] as? [String: Any])?["previousName"] as? String == "Школа №1")

            let municipality = "/v1/municipalities/\(school.id("municipality"))"
            let town = try await expect(api.call(.patch, municipality, token: school.token("regional"), json: ["name": "Омск-город"]), .ok)
            #expect(town.string("name") == "Омск-город")
            #expect(try await api.get(municipality, token: school.token("municipal")).string("name") == "Омск-город")
        }
    }

    @Test func othersAndBadNamesAreRefused() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let path = "/v1/schools/\(school.id("school"))"
            let municipality = "/v1/municipalities/\(school.id("municipality"))"
            try await expect(api.call(.patch, path, token: school.token("schoolAdmin"), json: ["name": "Моя"]), .forbidden)
            try await expect(
                api.call(.patch, "/v1/schools/\(school.id("otherSchool"))", token: school.token("municipal"), json: ["name": "Чужая"]), .forbidden)
            try await expect(api.call(.patch, municipality, token: school.token("municipal"), json: ["name": "Мой"]), .forbidden)
            try await expect(api.call(.patch, municipality, token: api.ministryToken, json: ["name": "Министерский"]), .forbidden)
            try await expect(api.call(.patch, "/v1/schools/s999999", token: school.token("regional"), json: ["name": "Нет"]), .notFound)
            let bodies: [[String: Any]] = [["name": ""], ["name": String(repeating: "я", count: 1000)], [:], ["name": 5]]
            for body in bodies {
                let answer = try await expect(api.call(.patch, path, token: school.token("regional"), json: body), .badRequest)
                #expect(answer.errorCode == "invalid_argument")
            }
        }
    }

    @Test func theMinistryRenamesARegion() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let renamed = try await expect(api.call(.patch, "/v1/regions/55", token: api.ministryToken, json: ["name": "Омская обл."]), .ok)
            #expect(renamed.string("code") == "55" && renamed.string("name") == "Омская обл.")
            #expect(try await api.get("/v1/regions/55", token: school.token("regional")).string("name") == "Омская обл.")
            let audit = try await api.get("/v1/audit?action=region.rename", token: api.ministryToken).items
            #expect((audit.first?["details"] as? [String: Any])?["previousName"] as? String == "Омская область")

            try await expect(api.call(.patch, "/v1/regions/55", token: school.token("regional"), json: ["name": "Моя"]), .forbidden)
            try await expect(api.call(.patch, "/v1/regions/55", token: school.token("schoolAdmin"), json: ["name": "Моя"]), .forbidden)
            try await expect(api.call(.patch, "/v1/regions/77", token: api.ministryToken, json: ["name": "Нет"]), .notFound)
            let answer = try await expect(api.call(.patch, "/v1/regions/55", token: api.ministryToken, json: ["name": " "]), .badRequest)
            #expect(answer.errorCode == "invalid_argument")
        }
    }

    @Test func aClassTakesANewGradeAndLetterAndItsChatsFollow() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let path = "/v1/classes/\(school.id("class5"))"
            let renamed = try await expect(api.call(.patch, path, token: school.token("schoolAdmin"), json: ["name": "5В"]), .ok)
            #expect(renamed["grade"] as? Int == 5 && renamed.string("letter") == "В" && renamed.string("year") == "2026/2027")
            let pupil = Set(try await api.get("/v1/me/chats", token: school.token("student1")).items.compactMap { $0["title"] as? String })
            #expect(pupil.contains("5В класс") && !pupil.contains("5А класс"))
            let parent = Set(try await api.get("/v1/me/chats", token: school.token("guardian1")).items.compactMap { $0["title"] as? String })
            #expect(parent.contains("5В — родители"))
            let audit = try await api.get("/v1/audit?action=class.rename", token: school.token("schoolAdmin")).items
            let details = audit.first?["details"] as? [String: Any]
            #expect(details?["previousName"] as? String == "5А" && details?["name"] as? String == "5В")

            let next = try await expect(api.call(.patch, path, token: school.token("regional"), json: ["name": " 10 - А "]), .badRequest)
            #expect(next.errorCode == "invalid_argument")
            let older = try await expect(api.call(.patch, path, token: school.token("municipal"), json: ["name": "10-А"]), .ok)
            #expect(older["grade"] as? Int == 10 && older.string("letter") == "А")
            try await expect(api.call(.patch, path, token: school.token("schoolAdmin"), json: ["name": "6Б"]), .conflict)
        }
    }

    @Test func othersAndBadClassNamesAreRefused() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let path = "/v1/classes/\(school.id("class5"))"
            try await expect(api.call(.patch, path, token: school.token("teacher5"), json: ["name": "5Г"]), .forbidden)
            try await expect(api.call(.patch, path, token: api.ministryToken, json: ["name": "5Г"]), .forbidden)
            let other = try await expect(
                api.post(
                    "/v1/schools/\(school.id("otherSchool"))/classes", token: school.token("regional"),
                    ["grade": 1, "letter": "А", "year": "2026/2027"]),
                .created)
            try await expect(
                api.call(.patch, "/v1/classes/\(other.string("id") ?? "")", token: school.token("schoolAdmin"), json: ["name": "1Б"]), .forbidden)
            try await expect(api.call(.patch, "/v1/classes/k999999", token: school.token("schoolAdmin"), json: ["name": "1Б"]), .notFound)
            let bodies: [[String: Any]] = [
                ["name": ""], ["name": "А5"], ["name": "12А"], ["name": "0А"], ["name": "5"], ["name": "5АБВГД"], ["name": "5_"], ["name": "111"],
                ["name": "5  А"], [:], ["name": 5],
            ]
            for body in bodies {
                let answer = try await expect(api.call(.patch, path, token: school.token("schoolAdmin"), json: body), .badRequest)
                #expect(answer.errorCode == "invalid_argument")
            }
        }
    }
}
