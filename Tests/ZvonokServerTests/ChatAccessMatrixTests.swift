import Foundation
import Hummingbird
import Testing
import ZvonokServer

/// Every role against every chat operation — history, members, revisions and reports over HTTP, and `sync`, `send`,
/// `read`, `typing`, `edit`, `delete` over the WebSocket — in each kind of chat of a school, and in a chat id guessed at
/// random (issue 8). Members get exactly their rights (only staff post in the school channel; only the author edits;
/// the author and the chat's staff delete — its class's teachers and the admins over it, an admin's message only
/// those admins; issue 15); revisions are the admins' over the chat; everyone else gets `not_found`, as for a chat that
/// does not exist.
@Suite struct ChatAccessMatrixTests {
    static let roles = ["ministry", "regional", "municipal", "schoolAdmin", "teacher5", "teacher6", "student1", "student3", "guardian1"]
    static let staff: Set<String> = ["schoolAdmin", "teacher5", "teacher6"]
    /// The admins over the school's chats; over the municipality chat, only the municipal and regional admins.
    static let schoolAdmins: Set<String> = ["regional", "municipal", "schoolAdmin"]

    /// One chat of the fixture: who is in it, whether only staff post, and who wrote its first message.
    struct ChatCase: Sendable {
        let name: String
        let id: String
        let members: Set<String>
        let staffOnly: Bool
        let author: String?
        /// Who may delete the author's message besides the author.
        var moderators: Set<String> = []
        /// Who reads the chat's revisions.
        var reviewers: Set<String> = []
    }

    @Test func everyRoleGetsExactlyItsRightsInEveryChat() async throws {
        try await withTestServer(configure: { $0.sendRate = 0 }) { api in
            let school = try await SchoolFixture.build(api)
            let chats = try await Self.chats(api, school)
            var failures: [String] = []
            for phase in [["history", "members", "revisions", "report", "sync", "read", "typing", "send", "edit"], ["delete"]] {
                for role in Self.roles {
                    failures += try await Self.check(phase, as: role, in: chats, api, school)
                }
            }
            #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
            #expect(chats.count == 6)
        }
    }

    private static func check(
        _ operations: [String], as role: String, in chats: [ChatCase], _ api: APIClient, _ school: SchoolFixture
    ) async throws -> [String] {
        try await withSocket(api, token: school.token(role)) { socket, _ in
            var failures: [String] = []
            for chat in chats {
                for operation in operations {
                    let outcome =
                        Self.overHTTP.contains(operation)
                        ? String(try await Self.request(operation, in: chat.id, api, token: school.token(role)).status.code)
                        : try await Self.attempt(operation, in: chat.id, on: socket, ref: "\(role)-\(operation)-\(chat.name)")
                    let expected = Self.expected(operation, role: role, in: chat)
                    if outcome != expected { failures.append("\(operation) in \(chat.name) as \(role): \(outcome), expected \(expected)") }
                }
            }
            return failures
        }.result
    }

    /// The operations asked over HTTP (`GET /v1/chats/{id}/messages`, `…/members`, `…/messages/1/revisions` and
    /// `POST …/messages/1/reports`); the others are frames.
    static let overHTTP: Set<String> = ["history", "members", "revisions", "report"]

    private static func request(_ operation: String, in chat: String, _ api: APIClient, token: String) async throws -> Answer {
        switch operation {
        case "revisions": return try await api.get("/v1/chats/\(chat)/messages/1/revisions", token: token)
        case "report": return try await api.post("/v1/chats/\(chat)/messages/1/reports", token: token, ["reason": "проверка"])
        default: return try await api.get("/v1/chats/\(chat)/\(operation == "history" ? "messages" : "members")", token: token)
        }
    }

    static func expected(_ operation: String, role: String, in chat: ChatCase) -> String {
        if operation == "revisions", chat.reviewers.contains(role) { return "200" }
        guard chat.members.contains(role) else { return overHTTP.contains(operation) ? "404" : "error:not_found" }
        switch operation {
        case "history", "members": return "200"
        case "revisions": return "403"
        case "report": return chat.name == "municipality" ? "403" : "201"
        case "sync": return "synced"
        case "send": return chat.staffOnly && !staff.contains(role) ? "error:forbidden" : "ack"
        case "edit": return role == chat.author ? "ok" : "error:forbidden"
        case "delete": return role == chat.author || chat.moderators.contains(role) ? "ok" : "error:forbidden"
        default: return "ok"
        }
    }

    /// Sends one frame and tells what came of it: `ack`, `synced`, `error:<code>`, or `ok` when the frame was taken
    /// without an answer of its own (a ping after it is answered first).
    private static func attempt(_ operation: String, in chat: String, on socket: TestSocket, ref: String) async throws -> String {
        var frame: [String: Any] = ["type": operation, "chat": chat, "ref": ref]
        switch operation {
        case "sync": frame["after"] = 0
        case "read": frame["seq"] = 1
        case "send": frame["cid"] = ref; frame["text"] = "проверка"
        case "edit": frame["seq"] = 1; frame["text"] = "исправлено"
        case "delete": frame["seq"] = 1
        default: break
        }
        try await socket.send(frame)
        // An ack follows the group commit, so a ping could overtake it: a send waits for its own answer; the other
        // frames are handled in order, so everything they caused comes before the pong.
        if operation != "send" { try await socket.send(["type": "ping"]) }
        var outcome: String?
        while true {
            let answer = try await socket.next()
            switch answer.type {
            case "error" where answer["ref"] as? String == ref: outcome = "error:\(answer["code"] as? String ?? "?")"
            case "ack" where answer["cid"] as? String == ref: outcome = "ack"
            case "synced" where answer.chat == chat: outcome = "synced"
            case "pong": return outcome ?? "ok"
            default: continue
            }
            if operation == "send", let outcome { return outcome }
        }
    }

    /// The school's chats, each with a first message by a member, and a chat id nobody has.
    private static func chats(_ api: APIClient, _ school: SchoolFixture) async throws -> [ChatCase] {
        let teacherChats = try await api.get("/v1/me/chats", token: school.token("teacher5")).items
        let municipalChats = try await api.get("/v1/me/chats", token: school.token("municipal")).items
        func id(_ kind: String, in chats: [[String: Any]]) throws -> String {
            try #require(chats.first { $0["kind"] as? String == kind }?["id"] as? String, "no \(kind) chat")
        }
        let cases = [
            ChatCase(
                name: "class", id: try id("class", in: teacherChats), members: ["teacher5", "student1"], staffOnly: false, author: "student1",
                moderators: ["teacher5"], reviewers: schoolAdmins),
            ChatCase(
                name: "class_parents", id: try id("class_parents", in: teacherChats), members: ["teacher5", "guardian1"], staffOnly: false,
                author: "guardian1", moderators: ["teacher5"], reviewers: schoolAdmins),
            // Teachers are peers in the staff room and the school channel: only the school's admins moderate there.
            ChatCase(
                name: "school_staff", id: try id("school_staff", in: teacherChats), members: staff, staffOnly: false, author: "teacher6",
                moderators: ["schoolAdmin"], reviewers: schoolAdmins),
            ChatCase(
                name: "school", id: try id("school", in: teacherChats), members: staff.union(["student1", "student3", "guardian1"]), staffOnly: true,
                author: "schoolAdmin", reviewers: schoolAdmins),
            ChatCase(
                name: "municipality", id: try id("municipality", in: municipalChats), members: ["municipal", "schoolAdmin"], staffOnly: false,
                author: "municipal", reviewers: ["regional", "municipal"]),
            ChatCase(name: "guessed", id: "c987654321", members: [], staffOnly: false, author: nil),
        ]
        for chat in cases {
            guard let author = chat.author else { continue }
            try await withSocket(api, token: school.token(author)) { socket, _ in
                try await socket.send(["type": "send", "chat": chat.id, "cid": "first", "text": "первое сообщение"])
                #expect(try await socket.next("ack").seq == 1)
            }
        }
        return cases
    }
}
