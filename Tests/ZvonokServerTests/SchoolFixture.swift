import Hummingbird

/// A small region built through the API as an administrator would: region 55 with a regional admin, a municipality
/// with its admin, a school with an admin, classes 5А and 6Б, a teacher per class, two students in 5А, one in 6Б,
/// a guardian of the first student; everyone activated. A second municipality and school stand beside it, to try
/// reaching outside one's subtree.
struct SchoolFixture: Sendable {
    var tokens: [String: String] = [:]
    var ids: [String: String] = [:]

    func token(_ name: String) -> String { tokens[name]! }
    func id(_ name: String) -> String { ids[name]! }

    static func build(_ api: APIClient) async throws -> SchoolFixture {
        var fixture = SchoolFixture()
        fixture.tokens["ministry"] = api.ministryToken
        try await expect(api.post("/v1/regions", token: api.ministryToken, ["code": "55", "name": "Омская область"]), .created)
        try await fixture.person("regional", api.post("/v1/regions/55/admins", token: api.ministryToken, ["name": "Регион Админ"]), api)

        let municipality = try await expect(api.post("/v1/regions/55/municipalities", token: fixture.token("regional"), ["name": "Омск"]), .created)
        fixture.ids["municipality"] = municipality.string("id")
        let other = try await expect(api.post("/v1/regions/55/municipalities", token: fixture.token("regional"), ["name": "Тара"]), .created)
        fixture.ids["otherMunicipality"] = other.string("id")
        try await fixture.person(
            "municipal", api.post("/v1/municipalities/\(fixture.id("municipality"))/admins", token: fixture.token("regional"), ["name": "Муниципал"]),
            api)

        let school = try await expect(
            api.post("/v1/municipalities/\(fixture.id("municipality"))/schools", token: fixture.token("municipal"), ["name": "Школа №1"]), .created)
        fixture.ids["school"] = school.string("id")
        let otherSchool = try await expect(
            api.post("/v1/municipalities/\(fixture.id("otherMunicipality"))/schools", token: fixture.token("regional"), ["name": "Школа №2"]),
            .created)
        fixture.ids["otherSchool"] = otherSchool.string("id")
        let schoolPath = "/v1/schools/\(fixture.id("school"))"
        try await fixture.person(
            "schoolAdmin", api.post("\(schoolPath)/staff", token: fixture.token("municipal"), ["name": "Завуч", "role": "school_admin"]), api)

        for (name, grade, letter) in [("class5", 5, "А"), ("class6", 6, "Б")] {
            let created = try await expect(
                api.post("\(schoolPath)/classes", token: fixture.token("schoolAdmin"), ["grade": grade, "letter": letter, "year": "2026/2027"]),
                .created)
            fixture.ids[name] = created.string("id")
        }
        for (name, schoolClass) in [("teacher5", "class5"), ("teacher6", "class6")] {
            try await fixture.person(
                name, api.post("\(schoolPath)/staff", token: fixture.token("schoolAdmin"), ["name": name, "role": "teacher"]), api)
            try await expect(
                api.post(
                    "/v1/classes/\(fixture.id(schoolClass))/teachers", token: fixture.token("schoolAdmin"),
                    ["staffId": fixture.id(name), "homeroom": true]),
                .created
            )
        }
        for (name, schoolClass) in [("student1", "class5"), ("student2", "class5"), ("student3", "class6")] {
            try await fixture.person(
                name, api.post("/v1/classes/\(fixture.id(schoolClass))/students", token: fixture.token("schoolAdmin"), ["name": name]), api)
        }
        try await fixture.person(
            "guardian1", api.post("/v1/students/\(fixture.id("student1"))/guardians", token: fixture.token("schoolAdmin"), ["name": "Мама"]), api)
        return fixture
    }

    /// Records a created person's id and activates their invite.
    mutating func person(_ name: String, _ answer: Answer, _ api: APIClient) async throws {
        try expect(answer, .created)
        guard let id = answer.string("id"), let code = answer.string("inviteCode") else { throw TestFailure("\(name): no id or invite") }
        ids[name] = id
        tokens[name] = try await api.activate(code)
    }
}

/// The answer, after checking its status.
@discardableResult
func expect(_ answer: Answer, _ status: HTTPResponse.Status, file: StaticString = #filePath, line: UInt = #line) throws -> Answer {
    guard answer.status == status else {
        throw TestFailure("expected \(status.code), got \(answer.status.code): \(answer.json ?? "no body")")
    }
    return answer
}
