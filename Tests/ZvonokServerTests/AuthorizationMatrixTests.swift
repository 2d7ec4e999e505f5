import Foundation
import Hummingbird
import Testing

/// Every role against every HTTP route, inside and outside its subtree, and a caller with no token or a forged one:
/// allowed callers succeed, other people get the row's refusal (403, or 404 where a chat is hidden), and a request
/// without a valid token gets 401.
@Suite struct AuthorizationMatrixTests {
    struct Operation: Sendable {
        let name: String
        let method: HTTPRequest.Method
        let path: @Sendable (Attempt) -> String
        /// The body, varied by attempt so that allowed attempts do not collide with each other.
        var body: @Sendable (Attempt) -> [String: Any]? = { _ in nil }
        let allowed: Set<String>
        var refusal = Refusal.forbidden

        /// Whether `answer` is what `caller` must get.
        func holds(for caller: String, _ answer: Answer) -> Bool {
            if allowed.contains(caller) { return (200..<300).contains(answer.status.code) }
            guard AuthorizationMatrixTests.roles.contains(caller) else { return answer.status == .unauthorized }
            return answer.status == refusal.status && answer.errorCode == refusal.code
        }
    }

    /// What a person without the right gets.
    struct Refusal: Sendable {
        let status: HTTPResponse.Status
        let code: String
        static let forbidden = Refusal(status: .forbidden, code: "forbidden")
    }

    /// One caller's try at one operation.
    struct Attempt: Sendable {
        var school: SchoolFixture
        let caller: String
        /// The caller's place in `callers`, to vary bodies by.
        let index: Int

        func id(_ name: String) -> String { school.id(name) }

        var token: String? {
            switch caller {
            case "anonymous": nil
            case "forged": "zv_not-a-real-token"
            default: school.token(caller)
            }
        }
    }

    static let roles = ["ministry", "regional", "otherRegional", "municipal", "schoolAdmin", "teacher5", "student1", "guardian1"]
    static let callers = roles + ["anonymous", "forged"]
    static let everyone = Set(roles)
    static let admins: Set<String> = ["regional", "municipal", "schoolAdmin"]
    static let readers: Set<String> = ["ministry", "regional", "municipal", "schoolAdmin"]
    static let letters = ["А", "Б", "В", "Г", "Д", "Е", "Ж", "З", "И", "К"]

    static let operations: [Operation] = [
        .init(name: "create region", method: .post, path: { _ in "/v1/regions" }, body: { ["code": String(format: "%02d", 60 + $0.index), "name": "R"] }, allowed: ["ministry"]),
        .init(name: "list regions", method: .get, path: { _ in "/v1/regions" }, allowed: ["ministry", "regional", "otherRegional"]),
        .init(name: "read region", method: .get, path: { _ in "/v1/regions/55" }, allowed: ["ministry", "regional"]),
        .init(name: "create municipality", method: .post, path: { _ in "/v1/regions/55/municipalities" }, body: { _ in ["name": "M"] }, allowed: ["regional"]),
        .init(name: "list municipalities", method: .get, path: { _ in "/v1/regions/55/municipalities" }, allowed: ["ministry", "regional"]),
        .init(name: "appoint regional admin", method: .post, path: { _ in "/v1/regions/55/admins" }, body: { _ in ["name": "A"] }, allowed: ["ministry"]),
        .init(name: "list regional admins", method: .get, path: { _ in "/v1/regions/55/admins" }, allowed: ["ministry", "regional"]),
        .init(name: "appoint municipal admin", method: .post, path: { "/v1/municipalities/\($0.id("municipality"))/admins" }, body: { _ in ["name": "A"] }, allowed: ["regional"]),
        .init(name: "create school", method: .post, path: { "/v1/municipalities/\($0.id("municipality"))/schools" }, body: { _ in ["name": "S"] }, allowed: ["regional", "municipal"]),
        .init(name: "list schools", method: .get, path: { "/v1/municipalities/\($0.id("municipality"))/schools" }, allowed: ["ministry", "regional", "municipal"]),
        .init(name: "list schools elsewhere", method: .get, path: { "/v1/municipalities/\($0.id("otherMunicipality"))/schools" }, allowed: ["ministry", "regional"]),
        .init(name: "read school elsewhere", method: .get, path: { "/v1/schools/\($0.id("otherSchool"))" }, allowed: ["ministry", "regional"]),
        .init(name: "create class elsewhere", method: .post, path: { "/v1/schools/\($0.id("otherSchool"))/classes" }, body: { ["grade": 9, "letter": letters[$0.index], "year": "2026/2027"] }, allowed: ["regional"]),
        .init(name: "create class", method: .post, path: { "/v1/schools/\($0.id("school"))/classes" }, body: { ["grade": 8, "letter": letters[$0.index], "year": "2026/2027"] }, allowed: admins),
        .init(name: "list classes", method: .get, path: { "/v1/schools/\($0.id("school"))/classes" }, allowed: readers),
        .init(name: "read class", method: .get, path: { "/v1/classes/\($0.id("class5"))" }, allowed: readers),
        .init(name: "create staff", method: .post, path: { "/v1/schools/\($0.id("school"))/staff" }, body: { _ in ["name": "T", "role": "teacher"] }, allowed: admins),
        .init(name: "list staff", method: .get, path: { "/v1/schools/\($0.id("school"))/staff" }, allowed: readers),
        .init(name: "assign teacher", method: .post, path: { "/v1/classes/\($0.id("class6"))/teachers" }, body: { ["staffId": $0.id("teacher5"), "homeroom": false] }, allowed: admins),
        .init(name: "list class teachers", method: .get, path: { "/v1/classes/\($0.id("class5"))/teachers" }, allowed: readers),
        .init(name: "create student", method: .post, path: { "/v1/classes/\($0.id("class5"))/students" }, body: { _ in ["name": "S"] }, allowed: admins),
        .init(name: "list students", method: .get, path: { "/v1/classes/\($0.id("class5"))/students" }, allowed: readers),
        .init(name: "create guardian", method: .post, path: { "/v1/students/\($0.id("student2"))/guardians" }, body: { _ in ["name": "G"] }, allowed: admins),
        .init(name: "list guardians", method: .get, path: { "/v1/students/\($0.id("student1"))/guardians" }, allowed: readers),
        .init(name: "reissue invite", method: .post, path: { "/v1/people/\($0.id("teacher6"))/invite" }, body: { _ in [:] }, allowed: admins),
        .init(name: "rename person", method: .patch, path: { "/v1/people/\($0.id("student3"))" }, body: { _ in ["name": "Renamed"] }, allowed: admins),
        .init(name: "reissue municipal admin invite", method: .post, path: { "/v1/people/\($0.id("municipal"))/invite" }, body: { _ in [:] }, allowed: ["regional"]),
        .init(name: "read a student", method: .get, path: { "/v1/people/\($0.id("student1"))" }, allowed: readers.union(["student1"])),
        .init(name: "upload roster", method: .put, path: { "/v1/schools/\($0.id("school"))/roster" }, body: { _ in ["classes": [], "staff": [], "students": [], "guardians": []] }, allowed: admins),
        .init(name: "upload roster elsewhere", method: .put, path: { "/v1/schools/\($0.id("otherSchool"))/roster" }, body: { _ in ["classes": []] }, allowed: ["regional"]),
        // Every admin reads the audit log of their own subtree (AuditLogTests checks which entries).
        .init(name: "read the audit log", method: .get, path: { _ in "/v1/audit" }, allowed: readers.union(["otherRegional"])),
        .init(name: "me", method: .get, path: { _ in "/v1/me" }, allowed: everyone),
        .init(name: "my chats", method: .get, path: { _ in "/v1/me/chats" }, allowed: everyone),
    ]

    @Test func everyRoleGetsExactlyItsRights() async throws {
        try await withTestServer { api in
            var school = try await SchoolFixture.build(api)
            try await expect(api.post("/v1/regions", token: api.ministryToken, ["code": "56", "name": "Оренбургская область"]), .created)
            let other = try await expect(api.post("/v1/regions/56/admins", token: api.ministryToken, ["name": "Чужой"]), .created)
            school.tokens["otherRegional"] = try await api.activate(other.string("inviteCode")!)

            var failures: [String] = []
            for operation in Self.operations {
                for (index, caller) in Self.callers.enumerated() {
                    let attempt = Attempt(school: school, caller: caller, index: index)
                    let answer = try await api.call(operation.method, operation.path(attempt), token: attempt.token, json: operation.body(attempt))
                    if !operation.holds(for: caller, answer) { failures.append("\(operation.name) as \(caller): \(answer.status.code) \(answer.json ?? "")") }
                }
            }
            #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        }
    }
}
