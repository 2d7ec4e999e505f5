import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite struct RosterUploadTests {
    static var roster: [String: Any] {
        [
            "classes": [
                ["externalId": "K5A", "grade": 5, "letter": "А", "year": "2026/2027"],
                ["externalId": "K6B", "grade": 6, "letter": "Б", "year": "2026/2027"],
            ],
            "staff": [
                [
                    "externalId": "T1", "name": "Иванова М. П.", "role": "teacher",
                    "classes": [["class": "K5A", "homeroom": true], ["class": "K6B", "homeroom": false]],
                ],
                ["externalId": "A1", "name": "Завуч", "role": "school_admin", "classes": [] as [Any]],
            ],
            "students": [
                ["externalId": "S1", "name": "Петров Петя", "class": "K5A"],
                ["externalId": "S2", "name": "Сидорова Света", "class": "K6B"],
            ],
            "guardians": [["externalId": "G1", "name": "Петрова Анна", "students": ["S1", "S2"]]],
        ]
    }

    @Test func jsonUploadCreatesThenRepeatsAsUnchanged() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let path = "/v1/schools/\(school.id("school"))/roster"
            let first = try await expect(api.call(.put, path, token: school.token("schoolAdmin"), json: Self.roster), .ok)
            // The fixture made 5А and 6Б through the API without external ids: the roster adopts them.
            #expect(first["created"] as? Int == 5)
            #expect(first["updated"] as? Int == 2)
            #expect(first["failed"] as? Int == 0)
            let invites = try #require(first["invites"] as? [[String: Any]])
            #expect(Set(invites.compactMap { $0["externalId"] as? String }) == ["T1", "A1", "S1", "S2", "G1"])

            let again = try await expect(api.call(.put, path, token: school.token("schoolAdmin"), json: Self.roster), .ok)
            #expect(again["created"] as? Int == 0)
            #expect(again["updated"] as? Int == 0)
            #expect(again["unchanged"] as? Int == 7)
            #expect((again["invites"] as? [Any])?.isEmpty == true)

            // The people land in their chats: the teacher in both classes, the guardian in both parents' chats.
            let teacherCode = invites.first { $0["externalId"] as? String == "T1" }!["inviteCode"] as! String
            let teacher = try await api.activate(teacherCode)
            let titles = Set(try await api.get("/v1/me/chats", token: teacher).items.map { $0["title"] as! String })
            #expect(titles == ["5А класс", "5А — родители", "6Б класс", "6Б — родители", "Школа №1", "Школа №1 — педагоги"])
            let guardianCode = invites.first { $0["externalId"] as? String == "G1" }!["inviteCode"] as! String
            let guardian = try await api.activate(guardianCode)
            let guardianTitles = Set(try await api.get("/v1/me/chats", token: guardian).items.map { $0["title"] as! String })
            #expect(guardianTitles == ["5А — родители", "6Б — родители", "Школа №1"])
        }
    }

    @Test func csvWithBOMAndSemicolonsUpdatesAndReportsBadRows() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let path = "/v1/schools/\(school.id("school"))/roster"
            try await expect(api.call(.put, path, token: school.token("schoolAdmin"), json: Self.roster), .ok)
            let csv =
                "\u{FEFF}type;externalId;name;role;grade;letter;year;class;classes;homeroom;students\r\n"
                + "class;K5A;;;5;А;2026/2027;;;;\r\n"
                + "student;S1;Петров Пётр;;;;;K6B;;;\r\n"
                + "student;S3;Новенький;;;;;K9Z;;;\r\n"
                + "guardian;G2;Папа;;;;;;;;S1|S404\r\n"
                + "staff;S2;Самозванец;teacher;;;;;;;\r\n"
            let answer = try await upload(csv, to: path, token: school.token("schoolAdmin"), api: api)
            #expect(answer["unchanged"] as? Int == 1)
            #expect(answer["updated"] as? Int == 1)
            #expect(answer["failed"] as? Int == 3)
            let errors = try #require(answer["errors"] as? [[String: Any]])
            #expect(errors.map { $0["line"] as? Int } == [4, 5, 6])
            #expect((errors[0]["message"] as? String)?.contains("K9Z") == true)

            let students = try await api.get("/v1/classes/\(school.id("class6"))/students", token: school.token("schoolAdmin")).items
            #expect(students.contains { $0["name"] as? String == "Петров Пётр" })
        }
    }

    /// Issue 19: a dry run answers the counts and refused rows of the real upload and writes nothing: no class,
    /// no person, no invite, no audit entry.
    @Test func dryRunAnswersWhatTheUploadWouldDoAndWritesNothing() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let path = "/v1/schools/\(school.id("school"))/roster"
            let token = school.token("schoolAdmin")
            var roster = Self.roster
            roster["students"] = [
                ["externalId": "S1", "name": "Петров Петя", "class": "K5A"], ["externalId": "S2", "name": "Нет", "class": "NOPE"],
            ]
            roster["guardians"] = [["externalId": "G1", "name": "Петрова Анна", "students": ["S1"]]]
            let audit = try await api.get("/v1/audit?action=roster.upload", token: token).items.count
            let dry = try await expect(api.call(.put, path + "?dryRun=true", token: token, json: roster), .ok)
            #expect((dry["invites"] as? [Any])?.isEmpty == true)
            // Row by row: the fixture's two classes are adopted (updated), the people created; line 6 is refused.
            let rows = try #require(dry["rows"] as? [[String: Any]])
            #expect(rows.compactMap { $0["line"] as? Int } == [1, 2, 3, 4, 5, 7])
            #expect(rows.compactMap { $0["action"] as? String } == ["updated", "updated", "created", "created", "created", "created"])
            #expect(rows.compactMap { $0["externalId"] as? String } == ["K5A", "K6B", "T1", "A1", "S1", "G1"])
            #expect(try await api.get("/v1/schools/\(school.id("school"))/classes", token: token).items.count == 2)
            #expect(try await api.get("/v1/schools/\(school.id("school"))/staff", token: token).items.count == 3)
            #expect(try await api.get("/v1/audit?action=roster.upload", token: token).items.count == audit)

            let real = try await expect(api.call(.put, path, token: token, json: roster), .ok)
            #expect(real["rows"] == nil)
            for key in ["created", "updated", "unchanged", "failed"] {
                #expect(dry[key] as? Int == real[key] as? Int, "\(key)")
            }
            #expect(real["created"] as? Int == 4)
            let dryErrors = try #require(dry["errors"] as? [[String: Any]])
            let realErrors = try #require(real["errors"] as? [[String: Any]])
            #expect(dryErrors.map { $0["line"] as? Int } == [6])
            #expect(dryErrors.map { $0["message"] as? String } == realErrors.map { $0["message"] as? String })

            // Atomically, a dry run is refused as the upload would be; bad values of the flag are 400.
            let atomic = try await expect(api.call(.put, path + "?dryRun=true&atomic=true", token: token, json: roster), .badRequest)
            #expect((atomic["errors"] as? [[String: Any]])?.count == 1)
            try await expect(api.call(.put, path + "?dryRun=yes", token: token, json: roster), .badRequest)
            try await expect(api.call(.put, path + "?dryRun=true", token: school.token("teacher5"), json: roster), .forbidden)
        }
    }

    @Test func atomicUploadWithABadRowAppliesNothing() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let path = "/v1/schools/\(school.id("school"))/roster?atomic=true"
            var roster = Self.roster
            roster["students"] = [["externalId": "S1", "name": "Петров Петя", "class": "NOPE"]]
            let answer = try await expect(api.call(.put, path, token: school.token("schoolAdmin"), json: roster), .badRequest)
            #expect(answer.errorCode == "invalid_argument")
            #expect((answer["errors"] as? [[String: Any]])?.first?["line"] as? Int == 5)
            let classes = try await api.get("/v1/schools/\(school.id("school"))/classes", token: school.token("schoolAdmin")).items
            #expect(classes.count == 2)
        }
    }

    /// Issue 15: a staff row listing one class twice answered 500 and applied nothing; an externalId short in
    /// characters but long in bytes answered 500 too. Each is now its row's error, and the other rows apply.
    @Test func duplicatesWithinARowAndByteLongIdsAreRowErrors() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let path = "/v1/schools/\(school.id("school"))/roster"
            var roster = Self.roster
            let longID = "T" + String(repeating: "\u{301}", count: 200)
            roster["staff"] = [
                [
                    "externalId": "T1", "name": "Иванова М. П.", "role": "teacher",
                    "classes": [["class": "K5A", "homeroom": true], ["class": "K5A", "homeroom": false]],
                ],
                ["externalId": "A1", "name": "Завуч", "role": "school_admin", "classes": [] as [Any]],
                ["externalId": longID, "name": "Длинный", "role": "teacher", "classes": [] as [Any]],
            ]
            roster["guardians"] = [["externalId": "G1", "name": "Петрова Анна", "students": ["S1", "S1"]]]
            let answer = try await expect(api.call(.put, path, token: school.token("schoolAdmin"), json: roster), .ok)
            let errors = try #require(answer["errors"] as? [[String: Any]])
            #expect(errors.compactMap { $0["line"] as? Int } == [3, 5, 8])
            #expect((errors[0]["message"] as? String)?.contains("K5A is listed twice") == true)
            #expect((errors[1]["message"] as? String)?.contains("externalId must be 1 to 100") == true)
            #expect(answer["failed"] as? Int == 3)
            let invites = try #require(answer["invites"] as? [[String: Any]])
            #expect(Set(invites.compactMap { $0["externalId"] as? String }) == ["A1", "S1", "S2"])
        }
    }

    @Test func rosterNeedsTheSchoolsAdmins() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            try await expect(
                api.call(.put, "/v1/schools/\(school.id("otherSchool"))/roster", token: school.token("schoolAdmin"), json: Self.roster), .forbidden)
            try await expect(
                api.call(.put, "/v1/schools/\(school.id("school"))/roster", token: school.token("teacher5"), json: Self.roster), .forbidden)
            try await expect(api.call(.put, "/v1/schools/\(school.id("school"))/roster", token: school.token("regional"), json: Self.roster), .ok)
        }
    }

    private func upload(_ csv: String, to path: String, token: String, api: APIClient) async throws -> Answer {
        try await api.send(.put, path, token: token, body: csv, contentType: "text/csv; charset=utf-8")
    }
}
