import Foundation
import Hummingbird
import Testing
import ZvonokCore
import ZvonokServer

/// Moderation bound to the chat (issue 15, hole 8): who deletes whose messages, what edits and deletions keep for
/// the school's admins, and members' reports, over real connections and HTTP.
@Suite struct ModerationTests {
    /// Issue 15 saw a teacher delete the school admin's announcement in the school channel, and `deleted` reach
    /// the whole school.
    @Test func aTeacherCannotDeleteTheSchoolAdminsAnnouncement() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let channel = try await Self.chat("school", of: "schoolAdmin", api, school)
            try await withSocket(api, token: school.token("student1")) { student, _ in
                try await withSocket(api, token: school.token("schoolAdmin")) { admin, _ in
                    try await admin.send(["type": "send", "chat": channel, "cid": "a1", "text": "Завтра линейка в 9:00"])
                    #expect(try await admin.next("ack").seq == 1)
                }
                try await withSocket(api, token: school.token("teacher6")) { teacher, _ in
                    try await teacher.send(["type": "delete", "chat": channel, "seq": 1, "ref": "d1"])
                    let refused = try await teacher.next("error")
                    #expect(refused["code"] as? String == "forbidden" && refused["ref"] as? String == "d1")
                    // The teacher's own announcement: the school admin may delete it.
                    try await teacher.send(["type": "send", "chat": channel, "cid": "t1", "text": "Кружок отменён"])
                    #expect(try await teacher.next("ack").seq == 2)
                }
                try await withSocket(api, token: school.token("schoolAdmin")) { admin, _ in
                    try await admin.send(["type": "delete", "chat": channel, "seq": 2])
                    #expect(try await admin.next("deleted").seq == 2)
                }
                // The student saw both messages and only the second one's deletion.
                var seen: [String] = []
                while seen.last != "deleted 2" {
                    let frame = try await student.next()
                    if frame.type == "msg" || frame.type == "deleted" { seen.append("\(frame.type!) \(frame.seq!)") }
                }
                #expect(seen == ["msg 1", "msg 2", "deleted 2"])
            }
            let history = try await api.get("/v1/chats/\(channel)/messages", token: school.token("student1")).items
            #expect(history.map { $0["deleted"] as? Bool ?? false } == [true, false])
            #expect(history[1]["text"] as? String == "Завтра линейка в 9:00")
        }
    }

    @Test func editsAndModeratorsDeletionsKeepTheTextForTheAdminsOverTheChat() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            try await withSocket(api, token: school.token("student1")) { student, _ in
                try await student.send(["type": "send", "chat": chat, "cid": "s1", "text": "первый вариант"])
                _ = try await student.next("ack")
                try await student.send(["type": "edit", "chat": chat, "seq": 1, "text": "второй вариант"])
                _ = try await student.next("edited")
            }
            try await withSocket(api, token: school.token("teacher5")) { teacher, _ in
                try await teacher.send(["type": "delete", "chat": chat, "seq": 1])
                _ = try await teacher.next("deleted")
            }
            let path = "/v1/chats/\(chat)/messages/1/revisions"
            let revisions = try expect(await api.get(path, token: school.token("schoolAdmin")), .ok).items
            #expect(revisions.map { $0["change"] as? String } == ["edit", "deletion"])
            #expect(revisions.map { $0["text"] as? String } == ["первый вариант", "второй вариант"])
            #expect(revisions.map { $0["by"] as? String } == [school.id("student1"), school.id("teacher5")])
            #expect(revisions.allSatisfy { $0["messageId"] as? String == "\(chat).1" })
            try expect(await api.get(path, token: school.token("municipal")), .ok)
            try expect(await api.get(path, token: school.token("regional")), .ok)
            // Members are not the moderation view's readers; others cannot tell the chat exists.
            for member in ["teacher5", "student1", "student2"] { try expect(await api.get(path, token: school.token(member)), .forbidden) }
            for outsider in ["guardian1", "teacher6", "ministry"] { try expect(await api.get(path, token: school.token(outsider)), .notFound) }
            // The moderator's deletion is in the audit log, without the text.
            let audit = try expect(await api.get("/v1/audit?action=message.delete", token: school.token("schoolAdmin")), .ok).items
            #expect(audit.map { $0["object"] as? String } == ["\(chat).1"])
            #expect(!"\(audit)".contains("вариант"))
        }
    }

    @Test func membersReportMessagesAndTheSchoolsAdminsCloseThem() async throws {
        try await withTestServer(configure: { $0.sendRate = 0 }) { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            try await withSocket(api, token: school.token("teacher5")) { teacher, _ in
                for index in 1...12 { try await teacher.send(["type": "send", "chat": chat, "cid": "t\(index)", "text": "сообщение \(index)"]) }
                _ = try await teacher.collect(12, "ack", in: chat)
            }
            let reports = "/v1/chats/\(chat)/messages/1/reports"
            let filed = try expect(await api.post(reports, token: school.token("student1"), ["reason": "грубость"]), .created)
            #expect(filed["status"] as? String == "open" && filed["reason"] as? String == "грубость" && filed["messageId"] as? String == "\(chat).1")
            #expect(filed["text"] == nil, "the reporter is not shown the message again")
            let id = try #require(filed.string("id"))
            try expect(await api.post(reports, token: school.token("student1"), ["reason": "ещё раз"]), .conflict)
            for bad: [String: Any] in [[:], ["reason": ""], ["reason": "   "], ["reason": String(repeating: "я", count: 1001)], ["reason": 5]] {
                #expect(try await api.post(reports, token: school.token("student2"), bad).errorCode == "invalid_argument", "\(bad)")
            }
            try expect(await api.post(reports, token: school.token("guardian1"), ["reason": "не мой чат"]), .notFound)
            try expect(await api.post("/v1/chats/\(chat)/messages/99/reports", token: school.token("student2"), ["reason": "нет такого"]), .notFound)

            let list = "/v1/schools/\(school.id("school"))/reports"
            let open = try expect(await api.get(list, token: school.token("schoolAdmin")), .ok).items
            #expect(open.map { $0["id"] as? String } == [id])
            #expect(open.first?["text"] as? String == "сообщение 1" && open.first?["from"] as? String == school.id("teacher5"))
            try expect(await api.get(list, token: school.token("teacher5")), .forbidden)
            try expect(await api.post("/v1/reports/\(id)/close", token: school.token("teacher5")), .forbidden)
            let closed = try expect(await api.post("/v1/reports/\(id)/close", token: school.token("schoolAdmin")), .ok)
            #expect(closed["status"] as? String == "closed" && closed["closedBy"] as? String == school.id("schoolAdmin"))
            try expect(await api.post("/v1/reports/\(id)/close", token: school.token("schoolAdmin")), .conflict)
            #expect(try expect(await api.get(list, token: school.token("schoolAdmin")), .ok).items.isEmpty)
            // Closed, the same reporter may report the message again.
            try expect(await api.post(reports, token: school.token("student1"), ["reason": "снова"]), .created)

            let actions = try expect(await api.get("/v1/audit", token: school.token("schoolAdmin")), .ok).items.compactMap { $0["action"] as? String }
            #expect(actions.filter { $0.hasPrefix("report.") } == ["report.create", "report.close", "report.create"])

            // Ten reports at once, then one a minute.
            var statuses: [Int] = []
            for seq in 2...12 {
                statuses.append(
                    Int(
                        try await api.post("/v1/chats/\(chat)/messages/\(seq)/reports", token: school.token("teacher5"), ["reason": "спам"]).status
                            .code))
            }
            #expect(statuses == Array(repeating: 201, count: 10) + [429])
        }
    }

    static func chat(_ kind: String, of person: String, _ api: APIClient, _ school: SchoolFixture) async throws -> String {
        try #require(try await api.get("/v1/me/chats", token: school.token(person)).items.first { $0["kind"] as? String == kind }?["id"] as? String)
    }
}
