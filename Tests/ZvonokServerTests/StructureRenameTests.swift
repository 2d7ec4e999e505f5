import Foundation
import Hummingbird
import Testing

/// `PATCH /v1/municipalities/{id}` and `PATCH /v1/schools/{id}` (issue 19, the admin console's rename): the level
/// above renames, the chats titled after the place follow, and the audit log keeps the previous name.
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
}
