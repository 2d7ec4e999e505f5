import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct ValidationTests {
    @Test func badInputGets400WithTheErrorBody() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let admin = school.token("schoolAdmin")
            let classes = "/v1/schools/\(school.id("school"))/classes"
            let cases: [(String, [String: Any])] = [
                (classes, ["grade": 12, "letter": "А", "year": "2026/2027"]),
                (classes, ["grade": 5, "letter": "", "year": "2026/2027"]),
                (classes, ["grade": 5, "letter": "А", "year": "2026/2028"]),
                (classes, ["grade": "five", "letter": "А", "year": "2026/2027"]),
                (classes, ["letter": "А", "year": "2026/2027"]),
                ("/v1/schools/\(school.id("school"))/staff", ["name": "X", "role": "student"]),
                ("/v1/schools/\(school.id("school"))/staff", ["name": "   ", "role": "teacher"]),
                ("/v1/schools/\(school.id("school"))/staff", ["name": String(repeating: "я", count: 201), "role": "teacher"]),
                ("/v1/schools/\(school.id("school"))/staff", ["name": "Bell\u{7}", "role": "teacher"]),
            ]
            for (path, body) in cases {
                let answer = try await api.post(path, token: admin, body)
                #expect(answer.status == .badRequest, "\(body)")
                #expect(answer.errorCode == "invalid_argument", "\(body)")
            }
            for code in ["1", "00", "ab", "123"] {
                let answer = try await api.post("/v1/regions", token: api.ministryToken, ["code": code, "name": "X"])
                #expect(answer.errorCode == "invalid_argument", "\(code)")
            }
        }
    }

    /// Issue 15: one letter and hundreds of combining marks is one character but many bytes; an `externalId` like it
    /// answered 500. Names are bounded at 512 UTF-8 bytes, external ids at 256, class letters at 32.
    @Test func valuesShortInCharactersButLongInBytesAre400() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let admin = school.token("schoolAdmin")
            let marks = { (count: Int) in "Я" + String(repeating: "\u{301}", count: count) }
            let cases: [(String, String, [String: Any])] = [
                (admin, "/v1/schools/\(school.id("school"))/staff", ["name": marks(300), "role": "teacher"]),
                (admin, "/v1/schools/\(school.id("school"))/staff", ["name": "Учитель", "role": "teacher", "externalId": marks(130)]),
                (admin, "/v1/schools/\(school.id("school"))/staff", ["name": "Учитель", "role": "teacher", "externalId": marks(9_000)]),
                (admin, "/v1/schools/\(school.id("school"))/classes", ["grade": 5, "letter": marks(20), "year": "2026/2027"]),
                (school.token("municipal"), "/v1/municipalities/\(school.id("municipality"))/schools", ["name": marks(300)]),
                (school.token("regional"), "/v1/regions/55/municipalities", ["name": "Район", "externalId": marks(130)]),
                (api.ministryToken, "/v1/regions", ["code": "77", "name": marks(300)]),
            ]
            for (token, path, body) in cases {
                let answer = try await api.post(path, token: token, body)
                #expect(answer.status == .badRequest, "\(path)")
                #expect(answer.errorCode == "invalid_argument", "\(path)")
            }
            // At the bounds, accepted: 200 code points of name, 100 of externalId, as the document's maxLength counts.
            try await expect(
                api.post("/v1/schools/\(school.id("school"))/staff", token: admin, ["name": marks(199), "role": "teacher", "externalId": marks(99)]),
                .created
            )
        }
    }

    /// What the API document forbids, the server refuses: `null` for a field that may only be left out, a boolean
    /// query parameter that is no boolean (schemathesis found both accepted).
    @Test func nullFieldsAndNonBooleanFlagsAre400() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let admin = school.token("schoolAdmin")
            for (path, body) in [
                ("/v1/schools/\(school.id("school"))/staff", ["name": "Учитель", "role": "teacher", "externalId": NSNull()] as [String: Any]),
                ("/v1/schools/\(school.id("school"))/classes", ["grade": 7, "letter": "В", "year": "2026/2027", "externalId": NSNull()]),
                ("/v1/classes/\(school.id("class5"))/teachers", ["staffId": school.id("teacher6"), "homeroom": NSNull()]),
            ] {
                #expect(try await api.post(path, token: admin, body).status == .badRequest, "\(path)")
            }
            let rename = try await api.call(.patch, "/v1/people/\(school.id("student1"))", token: admin, json: ["name": NSNull()])
            #expect(rename.status == .badRequest)
            let roster = try await api.call(.put, "/v1/schools/\(school.id("school"))/roster?atomic=null", token: admin, json: ["classes": []])
            #expect(roster.status == .badRequest)
            // Activation's body carries nothing, but what is sent must be the JSON object the document says.
            try await api.client.execute(uri: "/v1/invites/AAAA-BBBB-CCCC-DDDD-EEEE/activate", method: .post, body: ByteBuffer(string: "\t\u{19}C=/"))
            {
                #expect($0.status == .badRequest)
            }
            // Left out, they are simply absent.
            try await expect(api.post("/v1/schools/\(school.id("school"))/staff", token: admin, ["name": "Учитель", "role": "teacher"]), .created)
        }
    }

    @Test func duplicatesAre409() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let duplicateRegion = try await api.post("/v1/regions", token: api.ministryToken, ["code": "55", "name": "Again"])
            #expect(duplicateRegion.status == .conflict)
            #expect(duplicateRegion.errorCode == "conflict")
            let classes = "/v1/schools/\(school.id("school"))/classes"
            try await expect(api.post(classes, token: school.token("schoolAdmin"), ["grade": 5, "letter": "А", "year": "2026/2027"]), .conflict)
            let staff = "/v1/schools/\(school.id("school"))/staff"
            try await expect(api.post(staff, token: school.token("schoolAdmin"), ["name": "A", "role": "teacher", "externalId": "T-1"]), .created)
            try await expect(api.post(staff, token: school.token("schoolAdmin"), ["name": "B", "role": "teacher", "externalId": "T-1"]), .conflict)
        }
    }

    @Test func bodiesOverOneMebibyteAre413() async throws {
        try await withTestServer { api in
            let huge = String(repeating: "x", count: (1 << 20) + 10)
            let answer = try await api.post("/v1/regions", token: api.ministryToken, ["code": "10", "name": huge])
            #expect(answer.status == .contentTooLarge)
            #expect(answer.errorCode == "payload_too_large")
        }
    }

    @Test func malformedIdsAndJSONAreHandled() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            try await expect(api.get("/v1/schools/k1", token: school.token("regional")), .notFound)
            try await expect(api.get("/v1/schools/s99999999", token: school.token("regional")), .notFound)
            let answer = try await api.client.execute(
                uri: "/v1/regions", method: .post,
                headers: [.authorization: "Bearer \(api.ministryToken)", .contentType: "application/json"],
                body: .init(string: "{not json")
            ) { $0.status }
            #expect(answer == .badRequest)
        }
    }
}
