import Foundation
import Hummingbird
import Testing

/// Every role against every registration endpoint, inside and outside its subtree: allowed roles succeed, others
/// get 403, and a request without a token gets 401.
@Suite struct AuthorizationMatrixTests {
    struct Operation: Sendable {
        let name: String
        let method: HTTPRequest.Method
        let path: @Sendable (SchoolFixture) -> String
        /// The body, varied by attempt so that allowed attempts do not collide with each other.
        let body: @Sendable (Int) -> [String: Any]?
        let allowed: Set<String>
    }

    static let roles = ["ministry", "regional", "otherRegional", "municipal", "schoolAdmin", "teacher5", "student1", "guardian1"]
    static let admins: Set<String> = ["regional", "municipal", "schoolAdmin"]
    static let readers: Set<String> = ["ministry", "regional", "municipal", "schoolAdmin"]
    static let letters = ["А", "Б", "В", "Г", "Д", "Е", "Ж", "З", "И"]

    static let operations: [Operation] = [
        .init(name: "create region", method: .post, path: { _ in "/v1/regions" }, body: { ["code": String(format: "%02d", 60 + $0), "name": "R"] }, allowed: ["ministry"]),
        .init(name: "list regions", method: .get, path: { _ in "/v1/regions" }, body: { _ in nil }, allowed: ["ministry", "regional", "otherRegional"]),
        .init(name: "read region", method: .get, path: { _ in "/v1/regions/55" }, body: { _ in nil }, allowed: ["ministry", "regional"]),
        .init(name: "create municipality", method: .post, path: { _ in "/v1/regions/55/municipalities" }, body: { _ in ["name": "M"] }, allowed: ["regional"]),
        .init(name: "list municipalities", method: .get, path: { _ in "/v1/regions/55/municipalities" }, body: { _ in nil }, allowed: ["ministry", "regional"]),
        .init(name: "appoint regional admin", method: .post, path: { _ in "/v1/regions/55/admins" }, body: { _ in ["name": "A"] }, allowed: ["ministry"]),
        .init(name: "list regional admins", method: .get, path: { _ in "/v1/regions/55/admins" }, body: { _ in nil }, allowed: ["ministry", "regional"]),
        .init(name: "appoint municipal admin", method: .post, path: { "/v1/municipalities/\($0.id("municipality"))/admins" }, body: { _ in ["name": "A"] }, allowed: ["regional"]),
        .init(name: "create school", method: .post, path: { "/v1/municipalities/\($0.id("municipality"))/schools" }, body: { _ in ["name": "S"] }, allowed: ["regional", "municipal"]),
        .init(name: "list schools", method: .get, path: { "/v1/municipalities/\($0.id("municipality"))/schools" }, body: { _ in nil }, allowed: ["ministry", "regional", "municipal"]),
        .init(name: "list schools elsewhere", method: .get, path: { "/v1/municipalities/\($0.id("otherMunicipality"))/schools" }, body: { _ in nil }, allowed: ["ministry", "regional"]),
        .init(name: "read school elsewhere", method: .get, path: { "/v1/schools/\($0.id("otherSchool"))" }, body: { _ in nil }, allowed: ["ministry", "regional"]),
        .init(name: "create class elsewhere", method: .post, path: { "/v1/schools/\($0.id("otherSchool"))/classes" }, body: { ["grade": 9, "letter": letters[$0], "year": "2026/2027"] }, allowed: ["regional"]),
        .init(name: "create class", method: .post, path: { "/v1/schools/\($0.id("school"))/classes" }, body: { ["grade": 8, "letter": letters[$0], "year": "2026/2027"] }, allowed: admins),
        .init(name: "list classes", method: .get, path: { "/v1/schools/\($0.id("school"))/classes" }, body: { _ in nil }, allowed: readers),
        .init(name: "read class", method: .get, path: { "/v1/classes/\($0.id("class5"))" }, body: { _ in nil }, allowed: readers),
        .init(name: "create staff", method: .post, path: { "/v1/schools/\($0.id("school"))/staff" }, body: { _ in ["name": "T", "role": "teacher"] }, allowed: admins),
        .init(name: "list staff", method: .get, path: { "/v1/schools/\($0.id("school"))/staff" }, body: { _ in nil }, allowed: readers),
        .init(name: "assign teacher", method: .post, path: { "/v1/classes/\($0.id("class6"))/teachers" }, body: { _ in nil }, allowed: admins),
        .init(name: "list class teachers", method: .get, path: { "/v1/classes/\($0.id("class5"))/teachers" }, body: { _ in nil }, allowed: readers),
        .init(name: "create student", method: .post, path: { "/v1/classes/\($0.id("class5"))/students" }, body: { _ in ["name": "S"] }, allowed: admins),
        .init(name: "list students", method: .get, path: { "/v1/classes/\($0.id("class5"))/students" }, body: { _ in nil }, allowed: readers),
        .init(name: "create guardian", method: .post, path: { "/v1/students/\($0.id("student2"))/guardians" }, body: { _ in ["name": "G"] }, allowed: admins),
        .init(name: "list guardians", method: .get, path: { "/v1/students/\($0.id("student1"))/guardians" }, body: { _ in nil }, allowed: readers),
        .init(name: "reissue invite", method: .post, path: { "/v1/people/\($0.id("teacher6"))/invite" }, body: { _ in [:] }, allowed: admins),
        .init(name: "rename person", method: .patch, path: { "/v1/people/\($0.id("student3"))" }, body: { _ in ["name": "Renamed"] }, allowed: admins),
        .init(name: "reissue municipal admin invite", method: .post, path: { "/v1/people/\($0.id("municipal"))/invite" }, body: { _ in [:] }, allowed: ["regional"]),
        .init(name: "read a student", method: .get, path: { "/v1/people/\($0.id("student1"))" }, body: { _ in nil }, allowed: readers.union(["student1"])),
        .init(name: "upload roster", method: .put, path: { "/v1/schools/\($0.id("school"))/roster" }, body: { _ in ["classes": [], "staff": [], "students": [], "guardians": []] }, allowed: admins),
        .init(name: "upload roster elsewhere", method: .put, path: { "/v1/schools/\($0.id("otherSchool"))/roster" }, body: { _ in ["classes": []] }, allowed: ["regional"]),
        // Every admin reads the audit log of their own subtree (AuditLogTests checks which entries).
        .init(name: "read the audit log", method: .get, path: { _ in "/v1/audit" }, body: { _ in nil }, allowed: readers.union(["otherRegional"])),
        .init(name: "me", method: .get, path: { _ in "/v1/me" }, body: { _ in nil }, allowed: Set(roles)),
        .init(name: "my chats", method: .get, path: { _ in "/v1/me/chats" }, body: { _ in nil }, allowed: Set(roles)),
    ]

    @Test func everyRoleGetsExactlyItsRights() async throws {
        try await withTestServer { api in
            var school = try await SchoolFixture.build(api)
            try await expect(api.post("/v1/regions", token: api.ministryToken, ["code": "56", "name": "Оренбургская область"]), .created)
            let other = try await expect(api.post("/v1/regions/56/admins", token: api.ministryToken, ["name": "Чужой"]), .created)
            school.tokens["otherRegional"] = try await api.activate(other.string("inviteCode")!)

            var failures: [String] = []
            for operation in Self.operations {
                let path = operation.path(school)
                for (index, role) in Self.roles.enumerated() {
                    var body = operation.body(index)
                    if operation.name == "assign teacher" { body = ["staffId": school.id("teacher5"), "homeroom": false] }
                    let answer = try await api.call(operation.method, path, token: school.token(role), json: body)
                    let allowed = operation.allowed.contains(role)
                    let ok = allowed ? (200..<300).contains(answer.status.code) : answer.status == .forbidden && answer.errorCode == "forbidden"
                    if !ok { failures.append("\(operation.name) as \(role): \(answer.status.code) \(answer.json ?? "")") }
                }
                let anonymous = try await api.call(operation.method, path, token: nil, json: operation.body(0))
                if anonymous.status != .unauthorized { failures.append("\(operation.name) without a token: \(anonymous.status.code)") }
                let forged = try await api.call(operation.method, path, token: "zv_not-a-real-token", json: operation.body(0))
                if forged.status != .unauthorized { failures.append("\(operation.name) with a forged token: \(forged.status.code)") }
            }
            #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        }
    }
}
