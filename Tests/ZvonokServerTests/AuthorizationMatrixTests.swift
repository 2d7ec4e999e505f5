import Foundation
import Hummingbird
import Testing
import ZvonokCore
import ZvonokStorage
import ZvonokTestSupport

/// Every role against every HTTP route, inside and outside its subtree, and a caller with no token or a forged one:
/// allowed callers succeed, other people get the row's refusal (403, or 404 for what they may not know exists), and
/// a request without a valid token gets 401.
@Suite struct AuthorizationMatrixTests {
    struct Operation: Sendable {
        let name: String
        let method: HTTPRequest.Method
        let path: @Sendable (Attempt) -> String
        /// The body, varied by attempt so that allowed attempts do not collide with each other.
        var body: @Sendable (Attempt) -> [String: Any]? = { _ in nil }
        /// The `Accept` header; an allowed answer must come in that type.
        var accept: String? = nil
        /// What each attempt needs made anew.
        var fresh: Fresh? = nil
        let allowed: Set<String>
        var refusal = Refusal.forbidden
        /// Callers who get 404 instead of the row's refusal: those who may not know the thing exists.
        var hidden: Set<String> = []

        /// Whether `answer` is what `caller` must get.
        func holds(for caller: String, _ answer: Answer) -> Bool {
            if allowed.contains(caller) {
                return (200..<300).contains(answer.status.code) && accept.map { answer.contentType?.hasPrefix($0) == true } ?? true
            }
            guard AuthorizationMatrixTests.roles.contains(caller) else { return answer.status == .unauthorized }
            let refusal = hidden.contains(caller) ? Refusal.notFound : refusal
            return answer.status == refusal.status && answer.errorCode == refusal.code
        }
    }

    /// What a person without the right gets.
    struct Refusal: Sendable {
        let status: HTTPResponse.Status
        let code: String
        static let forbidden = Refusal(status: .forbidden, code: "forbidden")
        /// What one may not see, or what is not there: a chat one is not in, a person who is not what the path says.
        static let notFound = Refusal(status: .notFound, code: "not_found")
    }

    /// Made anew for each attempt before it is sent, so that one caller's success (a removal, a sign-out) leaves the
    /// next caller the same thing to try.
    typealias Fresh = @Sendable (inout Attempt, APIClient) async throws -> Void

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
    /// Public routes answer whatever the token.
    static let anyone = Set(callers)
    static let admins: Set<String> = ["regional", "municipal", "schoolAdmin"]
    static let readers: Set<String> = ["ministry", "regional", "municipal", "schoolAdmin"]
    static let letters = ["А", "Б", "В", "Г", "Д", "Е", "Ж", "З", "И", "К"]

    static let operations: [Operation] = [
        .init(
            name: "create region", method: .post, path: { _ in "/v1/regions" },
            body: { ["code": String(format: "%02d", 60 + $0.index), "name": "R"] }, allowed: ["ministry"]),
        .init(name: "list regions", method: .get, path: { _ in "/v1/regions" }, allowed: ["ministry", "regional", "otherRegional"]),
        .init(name: "read region", method: .get, path: { _ in "/v1/regions/55" }, allowed: ["ministry", "regional"]),
        .init(
            name: "create municipality", method: .post, path: { _ in "/v1/regions/55/municipalities" }, body: { _ in ["name": "M"] },
            allowed: ["regional"]),
        .init(name: "list municipalities", method: .get, path: { _ in "/v1/regions/55/municipalities" }, allowed: ["ministry", "regional"]),
        .init(
            name: "appoint regional admin", method: .post, path: { _ in "/v1/regions/55/admins" }, body: { _ in ["name": "A"] }, allowed: ["ministry"]
        ),
        .init(name: "list regional admins", method: .get, path: { _ in "/v1/regions/55/admins" }, allowed: ["ministry", "regional"]),
        .init(
            name: "appoint municipal admin", method: .post, path: { "/v1/municipalities/\($0.id("municipality"))/admins" },
            body: { _ in ["name": "A"] }, allowed: ["regional"]),
        .init(
            name: "create school", method: .post, path: { "/v1/municipalities/\($0.id("municipality"))/schools" }, body: { _ in ["name": "S"] },
            allowed: ["regional", "municipal"]),
        .init(
            name: "list schools", method: .get, path: { "/v1/municipalities/\($0.id("municipality"))/schools" },
            allowed: ["ministry", "regional", "municipal"]),
        .init(
            name: "list schools elsewhere", method: .get, path: { "/v1/municipalities/\($0.id("otherMunicipality"))/schools" },
            allowed: ["ministry", "regional"]),
        .init(
            name: "read municipality", method: .get, path: { "/v1/municipalities/\($0.id("municipality"))" },
            allowed: ["ministry", "regional", "municipal"]),
        .init(
            name: "read municipality elsewhere", method: .get, path: { "/v1/municipalities/\($0.id("otherMunicipality"))" },
            allowed: ["ministry", "regional"]),
        .init(
            name: "list municipal admins", method: .get, path: { "/v1/municipalities/\($0.id("municipality"))/admins" },
            allowed: ["ministry", "regional", "municipal"]),
        .init(name: "read school", method: .get, path: { "/v1/schools/\($0.id("school"))" }, allowed: readers),
        .init(name: "read school elsewhere", method: .get, path: { "/v1/schools/\($0.id("otherSchool"))" }, allowed: ["ministry", "regional"]),
        .init(
            name: "create class elsewhere", method: .post, path: { "/v1/schools/\($0.id("otherSchool"))/classes" },
            body: { ["grade": 9, "letter": letters[$0.index], "year": "2026/2027"] }, allowed: ["regional"]),
        .init(
            name: "create class", method: .post, path: { "/v1/schools/\($0.id("school"))/classes" },
            body: { ["grade": 8, "letter": letters[$0.index], "year": "2026/2027"] }, allowed: admins),
        .init(name: "list classes", method: .get, path: { "/v1/schools/\($0.id("school"))/classes" }, allowed: readers),
        .init(name: "read class", method: .get, path: { "/v1/classes/\($0.id("class5"))" }, allowed: readers),
        .init(
            name: "create staff", method: .post, path: { "/v1/schools/\($0.id("school"))/staff" }, body: { _ in ["name": "T", "role": "teacher"] },
            allowed: admins),
        .init(name: "list staff", method: .get, path: { "/v1/schools/\($0.id("school"))/staff" }, allowed: readers),
        .init(
            name: "assign teacher", method: .post, path: { "/v1/classes/\($0.id("class6"))/teachers" },
            body: { ["staffId": $0.id("teacher5"), "homeroom": false] }, allowed: admins),
        .init(
            name: "unassign teacher", method: .delete, path: { "/v1/classes/\($0.id("class6"))/teachers/\($0.id("fresh"))" },
            fresh: newClassTeacher(of: "class6", at: "school", by: "schoolAdmin"), allowed: admins),
        .init(
            name: "unassign teacher elsewhere", method: .delete, path: { "/v1/classes/\($0.id("otherClass"))/teachers/\($0.id("fresh"))" },
            fresh: newClassTeacher(of: "otherClass", at: "otherSchool", by: "regional"), allowed: ["regional"]),
        .init(name: "list class teachers", method: .get, path: { "/v1/classes/\($0.id("class5"))/teachers" }, allowed: readers),
        .init(
            name: "create student", method: .post, path: { "/v1/classes/\($0.id("class5"))/students" }, body: { _ in ["name": "S"] }, allowed: admins),
        .init(name: "list students", method: .get, path: { "/v1/classes/\($0.id("class5"))/students" }, allowed: readers),
        .init(
            name: "create guardian", method: .post, path: { "/v1/students/\($0.id("student2"))/guardians" }, body: { _ in ["name": "G"] },
            allowed: admins),
        .init(name: "list guardians", method: .get, path: { "/v1/students/\($0.id("student1"))/guardians" }, allowed: readers),
        // A teacher is no student: 404 for every person, and 401 without a token, which must not learn even that.
        .init(
            name: "list guardians of a teacher", method: .get, path: { "/v1/students/\($0.id("teacher5"))/guardians" }, allowed: [],
            refusal: .notFound),
        // A new invite ends the person's sessions, so these rows take a fresh person each.
        .init(
            name: "reissue invite", method: .post, path: { "/v1/people/\($0.id("fresh"))/invite" }, body: { _ in [:] },
            fresh: newPerson(at: { "/v1/schools/\($0.id("school"))/staff" }, by: "schoolAdmin", role: "teacher"), allowed: admins),
        .init(
            name: "rename person", method: .patch, path: { "/v1/people/\($0.id("student3"))" }, body: { _ in ["name": "Renamed"] }, allowed: admins),
        .init(
            name: "reissue municipal admin invite", method: .post, path: { "/v1/people/\($0.id("fresh"))/invite" }, body: { _ in [:] },
            fresh: newPerson(at: { "/v1/municipalities/\($0.id("municipality"))/admins" }, by: "regional"), allowed: ["regional"]),
        .init(
            name: "sign a student out everywhere", method: .delete, path: { "/v1/people/\($0.id("fresh"))/tokens" },
            fresh: newPerson(at: { "/v1/classes/\($0.id("class6"))/students" }, by: "schoolAdmin"), allowed: admins),
        .init(
            name: "sign a student out elsewhere", method: .delete, path: { "/v1/people/\($0.id("fresh"))/tokens" },
            fresh: newPerson(at: { "/v1/classes/\($0.id("otherClass"))/students" }, by: "regional"), allowed: ["regional"]),
        .init(
            name: "sign a municipal admin out everywhere", method: .delete, path: { "/v1/people/\($0.id("fresh"))/tokens" },
            fresh: newPerson(at: { "/v1/municipalities/\($0.id("municipality"))/admins" }, by: "regional"), allowed: ["regional"]),
        .init(
            name: "remove student", method: .delete, path: { "/v1/people/\($0.id("fresh"))" },
            fresh: newPerson(at: { "/v1/classes/\($0.id("class6"))/students" }, by: "schoolAdmin"), allowed: admins),
        .init(
            name: "remove student elsewhere", method: .delete, path: { "/v1/people/\($0.id("fresh"))" },
            fresh: newPerson(at: { "/v1/classes/\($0.id("otherClass"))/students" }, by: "regional"), allowed: ["regional"]),
        .init(
            name: "remove municipal admin", method: .delete, path: { "/v1/people/\($0.id("fresh"))" },
            fresh: newPerson(at: { "/v1/municipalities/\($0.id("municipality"))/admins" }, by: "regional"), allowed: ["regional"]),
        .init(
            name: "remove regional admin", method: .delete, path: { "/v1/people/\($0.id("fresh"))" },
            fresh: newPerson(at: { _ in "/v1/regions/55/admins" }, by: "ministry"), allowed: ["ministry"]),
        .init(name: "read a student", method: .get, path: { "/v1/people/\($0.id("student1"))" }, allowed: readers.union(["student1"])),
        .init(
            name: "upload roster", method: .put, path: { "/v1/schools/\($0.id("school"))/roster" },
            body: { _ in ["classes": [], "staff": [], "students": [], "guardians": []] }, allowed: admins),
        .init(
            name: "upload roster elsewhere", method: .put, path: { "/v1/schools/\($0.id("otherSchool"))/roster" }, body: { _ in ["classes": []] },
            allowed: ["regional"]),
        // Every admin reads the audit log of their own subtree (AuditLogTests checks which entries).
        .init(name: "read the audit log", method: .get, path: { _ in "/v1/audit" }, allowed: readers.union(["otherRegional"])),
        .init(name: "me", method: .get, path: { _ in "/v1/me" }, allowed: everyone),
        .init(name: "my chats", method: .get, path: { _ in "/v1/me/chats" }, allowed: everyone),
        .init(name: "sign out", method: .delete, path: { _ in "/v1/me/token" }, fresh: secondToken, allowed: everyone),
        .init(
            name: "activate an invite", method: .post, path: { "/v1/invites/\($0.id("freshInvite"))/activate" }, body: { _ in [:] },
            fresh: newPerson(at: { "/v1/classes/\($0.id("class6"))/students" }, by: "schoolAdmin"), allowed: everyone.union(["anonymous"])),
        // Which pairs may talk directly is RegistrationTests.directChatsFollowTheAllowedPairs's; here, who may ask.
        .init(
            name: "open direct chat with a teacher", method: .post, path: { _ in "/v1/chats/direct" }, body: { ["userId": $0.id("teacher5")] },
            allowed: ["schoolAdmin", "student1", "guardian1"]),
        .init(
            name: "open direct chat with a student", method: .post, path: { _ in "/v1/chats/direct" }, body: { ["userId": $0.id("student2")] },
            allowed: ["teacher5"]),
        .init(
            name: "open direct chat elsewhere", method: .post, path: { _ in "/v1/chats/direct" }, body: { ["userId": $0.id("otherTeacher")] },
            allowed: []),
        // Every role in every kind of chat, over HTTP and the WebSocket, is ChatAccessMatrixTests's.
        .init(
            name: "read class chat history", method: .get, path: { "/v1/chats/\($0.id("class5Chat"))/messages" }, allowed: ["teacher5", "student1"],
            refusal: .notFound),
        .init(
            name: "list class chat members", method: .get, path: { "/v1/chats/\($0.id("class5Chat"))/members" }, allowed: ["teacher5", "student1"],
            refusal: .notFound),
        // What moderation keeps and who may close what is ModerationTests's; here, who may ask. Members of the chat who
        // are not admins over it are refused; anyone else cannot tell the chat exists.
        .init(
            name: "read a message's revisions", method: .get, path: { "/v1/chats/\($0.id("class5Chat"))/messages/1/revisions" },
            allowed: admins, hidden: ["ministry", "otherRegional", "guardian1"]),
        .init(
            name: "report a message", method: .post, path: { "/v1/chats/\($0.id("class5Chat"))/messages/1/reports" },
            body: { _ in ["reason": "спам"] },
            allowed: ["teacher5", "student1"], refusal: .notFound),
        .init(name: "list a school's open reports", method: .get, path: { "/v1/schools/\($0.id("school"))/reports" }, allowed: admins),
        .init(name: "list open reports elsewhere", method: .get, path: { "/v1/schools/\($0.id("otherSchool"))/reports" }, allowed: ["regional"]),
        .init(
            name: "close a report", method: .post, path: { "/v1/reports/\($0.id("fresh"))/close" }, body: { _ in [:] }, fresh: newReport,
            allowed: admins),
        // Which rows each caller sees is WeeklyRatingTests.whoSeesWhat's.
        .init(
            name: "rating of regions", method: .get, path: { _ in "/v1/ratings/weekly?level=region" },
            allowed: ["ministry", "regional", "otherRegional"]),
        .init(
            name: "rating of regions as CSV", method: .get, path: { _ in "/v1/ratings/weekly?level=region" }, accept: "text/csv",
            allowed: ["ministry", "regional", "otherRegional"]),
        .init(
            name: "rating of schools", method: .get, path: { _ in "/v1/ratings/weekly?level=school&region=55" },
            allowed: ["ministry", "regional", "municipal"]),
        .init(
            name: "rating of schools as CSV", method: .get, path: { _ in "/v1/ratings/weekly?level=school&region=55" }, accept: "text/csv",
            allowed: ["ministry", "regional", "municipal"]),
        .init(
            name: "rating of municipalities elsewhere", method: .get,
            path: { "/v1/ratings/weekly?level=municipality&municipality=\($0.id("otherMunicipality"))" }, allowed: ["ministry", "regional"]),
        .init(
            name: "rating of schools in another region", method: .get, path: { _ in "/v1/ratings/weekly?level=school&region=56" },
            allowed: ["ministry", "otherRegional"]),
        .init(name: "health", method: .get, path: { _ in "/health" }, allowed: anyone),
        .init(name: "metrics", method: .get, path: { _ in "/metrics" }, allowed: anyone),
        .init(name: "OpenAPI document", method: .get, path: { _ in "/openapi.yaml" }, allowed: anyone),
        .init(name: "web client", method: .get, path: { _ in "/" }, allowed: anyone),
        .init(name: "rating page", method: .get, path: { _ in "/rating" }, allowed: anyone),
        .init(name: "web client asset", method: .get, path: { _ in "/assets/chat.js" }, allowed: anyone),
    ]

    /// The routes of files (issue 17), notifications (issue 18) and personal data (issue 20).
    static let laterOperations: [Operation] = [
        .init(
            name: "download a posted file", method: .get, path: { "/v1/files/\($0.id("postedFile"))" }, allowed: ["teacher5", "student1"],
            refusal: .notFound),
        .init(
            name: "read a school's quiet hours", method: .get, path: { "/v1/schools/\($0.id("school"))/quiet-hours" },
            allowed: everyone.subtracting(["otherRegional"]), refusal: .notFound),
        .init(
            name: "set a school's quiet hours", method: .put, path: { "/v1/schools/\($0.id("school"))/quiet-hours" },
            body: { _ in ["from": "21:00", "to": "07:00", "applies": ["student", "guardian"]] }, allowed: admins),
        .init(
            name: "set a region's time zone", method: .put, path: { _ in "/v1/regions/55/time-zone" }, body: { _ in ["timeZone": "Asia/Omsk"] },
            allowed: ["regional"]),
        .init(
            name: "mute a chat", method: .put, path: { "/v1/me/chats/\($0.id("class5Chat"))/notifications" }, body: { _ in ["muted": false] },
            allowed: ["teacher5", "student1"], refusal: .notFound),
        .init(
            name: "subscribe a browser", method: .post, path: { _ in "/v1/me/push-subscriptions" },
            body: { TestSubscriber().subscription("https://fcm.googleapis.com/fcm/send/matrix-\($0.index)") }, allowed: everyone),
        .init(
            name: "register a phone", method: .post, path: { _ in "/v1/me/devices" }, body: { ["platform": "fcm", "token": "matrix-\($0.index)"] },
            allowed: everyone),
        // Public, but a token that is sent must be valid.
        .init(name: "VAPID key", method: .get, path: { _ in "/v1/push/vapid-key" }, allowed: everyone.union(["anonymous"])),
        .init(name: "export my data", method: .get, path: { _ in "/v1/me/export" }, allowed: everyone),
        .init(name: "export a pupil's data", method: .get, path: { "/v1/people/\($0.id("student1"))/export" }, allowed: admins),
        .init(name: "read a school's erasure choice", method: .get, path: { "/v1/schools/\($0.id("school"))/erasure" }, allowed: admins),
        .init(
            name: "set a school's erasure choice", method: .put, path: { "/v1/schools/\($0.id("school"))/erasure" },
            body: { _ in ["deleteMessages": false] }, allowed: admins),
        .init(
            name: "plan a school's rollover", method: .post, path: { "/v1/schools/\($0.id("school"))/rollover" },
            body: { _ in ["from": "2026/2027", "to": "2027/2028", "dryRun": true] }, allowed: admins),
    ]

    @Test func everyRoleGetsExactlyItsRights() async throws {
        try await withTestServer { api in
            let school = try await Self.world(api)
            var failures: [String] = []
            for operation in Self.operations + Self.laterOperations {
                for (index, caller) in Self.callers.enumerated() {
                    var attempt = Attempt(school: school, caller: caller, index: index)
                    try await operation.fresh?(&attempt, api)
                    let answer = try await api.call(
                        operation.method, operation.path(attempt), token: attempt.token, json: operation.body(attempt), accept: operation.accept
                    )
                    if !operation.holds(for: caller, answer) {
                        failures.append("\(operation.name) as \(caller): \(answer.status.code) \(answer.json ?? "")")
                    }
                }
            }
            #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        }
    }

    /// The fixture, and beside it what only this matrix needs: region 56 with its own admin, a class and a teacher in
    /// the other school, and 5А's class chat.
    static func world(_ api: APIClient) async throws -> SchoolFixture {
        var school = try await SchoolFixture.build(api)
        try await expect(api.post("/v1/regions", token: api.ministryToken, ["code": "56", "name": "Оренбургская область"]), .created)
        try await school.person("otherRegional", api.post("/v1/regions/56/admins", token: api.ministryToken, ["name": "Чужой"]), api)
        let elsewhere = "/v1/schools/\(school.id("otherSchool"))"
        let regional = school.token("regional")
        let otherClass = try await expect(
            api.post("\(elsewhere)/classes", token: regional, ["grade": 7, "letter": "В", "year": "2026/2027"]), .created)
        school.ids["otherClass"] = otherClass.string("id")
        try await school.person("otherTeacher", api.post("\(elsewhere)/staff", token: regional, ["name": "Чужой учитель", "role": "teacher"]), api)
        school.ids["class5Chat"] = try await WebSocketOrderTests.classChat(api, school)
        let chat = school.id("class5Chat")
        let upload = try await api.upload(Array("Расписание".utf8), name: "расписание.txt", to: chat, token: school.token("teacher5"))
        let file = try #require(upload.string("id"))
        school.ids["postedFile"] = file
        try await withSocket(api, token: school.token("teacher5")) { teacher, _ in
            for index in 1...callers.count + 1 { try await teacher.send(["type": "send", "chat": chat, "cid": "m\(index)", "text": "сообщение"]) }
            _ = try await teacher.collect(callers.count + 1, "ack", in: chat)
            try await teacher.send(["type": "send", "chat": chat, "cid": "file", "text": "", "files": [file]])
            _ = try await teacher.next("ack")
        }
        return school
    }

    /// An open report made anew for each attempt, as `fresh`: of the class chat's message after the caller's
    /// place, by its student or its teacher in turn (so that neither reaches the reports' rate limit).
    static let newReport: Fresh = { attempt, api in
        let reporter = attempt.index.isMultiple(of: 2) ? "student1" : "teacher5"
        let path = "/v1/chats/\(attempt.id("class5Chat"))/messages/\(attempt.index + 2)/reports"
        let report = try await expect(api.post(path, token: attempt.school.token(reporter), ["reason": "проверка"]), .created)
        attempt.school.ids["fresh"] = report.string("id")
    }

    /// Someone `admin` lists anew at `collection` for each attempt, as `fresh`, with their invite code as `freshInvite`.
    static func newPerson(at collection: @escaping @Sendable (Attempt) -> String, by admin: String, role: String? = nil) -> Fresh {
        { attempt, api in
            var body: [String: Any] = ["name": "Новенький"]
            if let role { body["role"] = role }
            let answer = try await expect(api.post(collection(attempt), token: attempt.school.token(admin), body), .created)
            attempt.school.ids["fresh"] = answer.string("id")
            attempt.school.ids["freshInvite"] = answer.string("inviteCode")
        }
    }

    /// A teacher `admin` lists at `school` and assigns to `schoolClass` anew for each attempt, as `fresh`.
    static func newClassTeacher(of schoolClass: String, at school: String, by admin: String) -> Fresh {
        let teacher = newPerson(at: { "/v1/schools/\($0.id(school))/staff" }, by: admin, role: "teacher")
        return { attempt, api in
            try await teacher(&attempt, api)
            let assignment: [String: Any] = ["staffId": attempt.id("fresh"), "homeroom": false]
            let path = "/v1/classes/\(attempt.id(schoolClass))/teachers"
            try await expect(api.post(path, token: attempt.school.token(admin), assignment), .created)
        }
    }

    /// A second token of the caller's in place of the first, so that signing out spends none the other rows use. A new
    /// invite would end the first session, so the token is written into the database as activation writes it; the
    /// ministry gets a second account.
    static let secondToken: Fresh = { attempt, api in
        let caller = attempt.caller
        guard roles.contains(caller) else { return }
        var person: Int64?
        if caller != "ministry" {
            let id: Int64 = try #require(PublicID.decode(.person, attempt.id(caller)))
            person = id
        }
        attempt.school.tokens[caller] = try await withRunningDatabase(api.databaseURL) { database in
            guard let person else { return try await CredentialStore(database: database).mintMinistryToken(name: "Министерство, второй вход") }
            return try await mintToken(for: person, on: database)
        }
    }
}
