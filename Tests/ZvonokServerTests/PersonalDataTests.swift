import Foundation
import Hummingbird
import PostgresNIO
import Testing
import ZvonokCore
import ZvonokStorage

/// Personal data (issue 20): erasure at once by an admin, which leaves past weeks' ratings as they were, and the export
/// of everything held about a person.
@Suite struct PersonalDataTests {
    /// SchoolFixture with its structure and people a month old, and a dialogue in 5А two weeks ago (week W).
    func build(_ api: APIClient) async throws -> (SchoolFixture, RatingWeek) {
        let school = try await SchoolFixture.build(api)
        let week = RatingWeek.containing(Date()).previous.previous
        try await withRunningDatabase(api.databaseURL) { db in
            for table in ["regions", "municipalities", "schools", "classes"] {
                try await db.query(PostgresQuery(unsafeSQL: "UPDATE \(table) SET created_at = now() - interval '30 days'"))
            }
            try await db.query("UPDATE people SET listed_at = now() - interval '30 days', registered_at = now() - interval '25 days'")
            let chat = try await WeeklyRatingTests.chat(db, classID: school.id("class5"))
            let rating = WeeklyRatingTests()
            try await rating.send(db, Self.number(school.id("teacher5")), chat, ["Домашнее задание"], day: week.firstDayText)
            try await rating.send(db, Self.number(school.id("student1")), chat, ["Сделал"], day: week.firstDayText)
        }
        return (school, week)
    }

    static func number(_ id: String) -> Int64 { Int64(id.dropFirst())! }

    func ratings(_ api: APIClient, _ week: RatingWeek) async throws -> [Any] {
        var all: [Any] = []
        for query in ["level=region", "level=municipality&region=55", "level=school&region=55"] {
            all.append(try await expect(api.get("/v1/ratings/weekly?week=\(week)&\(query)", token: api.ministryToken), .ok).items)
        }
        return all
    }

    @Test func erasureAtOnceKeepsPastRatings() async throws {
        try await withTestServer { api in
            let (school, week) = try await build(api)
            let before = try await ratings(api, week)
            #expect(((before[2] as? [[String: Any]])?.first?["teachersActive"] as? Int) == 1)
            let teacher = school.id("teacher5")
            try await expect(api.call(.delete, "/v1/people/\(teacher)?erase=now", token: school.token("schoolAdmin")), .noContent)
            #expect(NSArray(array: try await ratings(api, week)).isEqual(to: before), "erasure changes no past week")

            try await expect(api.get("/v1/me", token: school.token("teacher5")), .unauthorized)
            try await expect(api.get("/v1/people/\(teacher)", token: school.token("schoolAdmin")), .notFound)
            try await withRunningDatabase(api.databaseURL) { db in
                let id = Self.number(teacher)
                let person = try await db.query(
                    """
                    SELECT name, external_id IS NULL AND erased_at IS NOT NULL,
                           (SELECT count(*)::int FROM tokens WHERE person_id = \(id)) + (SELECT count(*)::int FROM invites WHERE person_id = \(id)),
                           (SELECT count(*)::int FROM audit_log WHERE object = \(teacher) AND details ? 'name')
                    FROM people WHERE id = \(id)
                    """
                ).decode((String, Bool, Int, Int).self).first { _ in true }
                #expect(person?.0 == ErasureStore.placeholderName && person?.1 == true && person?.2 == 0 && person?.3 == 0)
                let texts = try await db.query("SELECT text FROM messages WHERE sender_id = \(id)").decode(String.self).first { _ in true }
                #expect(texts == "Домашнее задание", "the school keeps an erased person's messages for the others' history")
            }
            let audit = try await api.get("/v1/audit?action=person.erase", token: school.token("schoolAdmin")).items
            #expect(audit.compactMap { $0["object"] as? String } == [teacher])

            let policy = "/v1/schools/\(school.id("school"))/erasure"
            #expect(try await expect(api.get(policy, token: school.token("schoolAdmin")), .ok)["deleteMessages"] as? Bool == false)
            try await expect(api.get(policy, token: school.token("teacher6")), .forbidden)
            try await expect(api.call(.put, policy, token: school.token("teacher6"), json: ["deleteMessages": true]), .forbidden)
            try await expect(api.call(.put, policy, token: school.token("schoolAdmin"), json: ["deleteMessages": "yes"]), .badRequest)
            try await expect(
                api.call(.put, "/v1/schools/s999999/erasure", token: school.token("schoolAdmin"), json: ["deleteMessages": true]), .notFound)
            let chosen = try await expect(api.call(.put, policy, token: school.token("schoolAdmin"), json: ["deleteMessages": true]), .ok)
            #expect(chosen["deleteMessages"] as? Bool == true && chosen["school"] as? String == school.id("school"))
            #expect(try await expect(api.get(policy, token: school.token("schoolAdmin")), .ok)["deleteMessages"] as? Bool == true)
            let chosenAudit = try await api.get("/v1/audit?action=school.erasure", token: school.token("schoolAdmin")).items
            #expect(chosenAudit.compactMap { $0["object"] as? String } == [school.id("school")])

            // This school chose to delete an erased person's messages: student1's text goes, the past week stays.
            try await expect(api.call(.delete, "/v1/people/\(school.id("student1"))?erase=now", token: school.token("schoolAdmin")), .noContent)
            try await withRunningDatabase(api.databaseURL) { db in
                let rows = try await db.query(
                    "SELECT text, deleted_at IS NOT NULL FROM messages WHERE sender_id = \(Self.number(school.id("student1")))")
                for try await (text, deleted) in rows.decode((String, Bool).self) { #expect(text.isEmpty && deleted) }
            }
            #expect(NSArray(array: try await ratings(api, week)).isEqual(to: before))
        }
    }

    @Test func erasureRefusals() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let student = "/v1/people/\(school.id("student2"))"
            try await expect(api.call(.delete, "\(student)?erase=soon", token: school.token("schoolAdmin")), .badRequest)
            try await expect(api.call(.delete, "\(student)?erase=now", token: school.token("teacher5")), .forbidden)
            try await expect(api.call(.delete, "/v1/people/p999999?erase=now", token: school.token("schoolAdmin")), .notFound)
            // Removed first, erased later: still reachable until erased, then gone.
            try await expect(api.call(.delete, student, token: school.token("schoolAdmin")), .noContent)
            try await expect(api.call(.delete, "\(student)?erase=now", token: school.token("schoolAdmin")), .noContent)
            try await expect(api.call(.delete, "\(student)?erase=now", token: school.token("schoolAdmin")), .notFound)
        }
    }

    @Test func exportHoldsEverythingAboutThePerson() async throws {
        try await withTestServer { api in
            let (school, _) = try await build(api)
            let token = school.token("student1")
            let classChat = try #require(
                try await api.get("/v1/me/chats", token: token).items.first { $0["kind"] as? String == "class" }?["id"] as? String)
            try expect(await api.post("/v1/me/devices", token: token, ["platform": "fcm", "token": "secret-device-token"]), .created)
            try expect(
                await api.post(
                    "/v1/me/push-subscriptions", token: token, TestSubscriber().subscription("https://fcm.googleapis.com/fcm/send/secret-path")),
                .created)
            try expect(await api.call(.put, "/v1/me/chats/\(classChat)/notifications", token: token, json: ["muted": true]), .ok)
            let file = try await api.upload(Array("Решение задачи 5".utf8), name: "решение.txt", to: classChat, token: token)
            #expect(file.status == .created)
            let export = try await expect(api.get("/v1/me/export", token: token), .ok)
            let held = String(decoding: try await api.raw(.get, "/v1/me/export", token: token).bytes, as: UTF8.self)
            #expect(!held.contains("secret-device-token") && !held.contains("secret-path"), "no push credential in the export")
            #expect((export["devices"] as? [[String: Any]])?.compactMap { $0["platform"] as? String } == ["fcm"])
            #expect((export["pushSubscriptions"] as? [[String: Any]])?.compactMap { $0["service"] as? String } == ["fcm.googleapis.com"])
            #expect((export["mutedChats"] as? [[String: Any]])?.compactMap { $0["chat"] as? String } == [classChat])
            let files = try #require(export["files"] as? [[String: Any]])
            #expect(files.count == 1 && files[0]["name"] as? String == "решение.txt" && files[0]["id"] as? String == file.string("id"))
            let profile = try #require(export["profile"] as? [String: Any])
            #expect(profile["id"] as? String == school.id("student1") && profile["name"] as? String == "student1")
            #expect(profile["classId"] as? String == school.id("class5") && profile["role"] as? String == "student")
            let chats = (export["chats"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String }
            #expect(Set(chats) == ["5А класс", "Школа №1"])
            let messages = try #require(export["messages"] as? [[String: Any]])
            #expect(messages.count == 1 && messages[0]["chatTitle"] as? String == "5А класс" && messages[0]["text"] as? String == "Сделал")
            #expect((export["guardians"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["Мама"])
            #expect((export["sessions"] as? [Any])?.count == 1)
            let audit = (export["audit"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            #expect(audit == ["person.create", "invite.activate"])

            let guardian = try await expect(api.get("/v1/me/export", token: school.token("guardian1")), .ok)
            #expect((guardian["children"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [school.id("student1")])

            let path = "/v1/people/\(school.id("student1"))/export"
            let byAdmin = try await expect(api.get(path, token: school.token("schoolAdmin")), .ok)
            #expect((byAdmin["profile"] as? [String: Any])?["id"] as? String == school.id("student1"))
            try await expect(api.get(path, token: school.token("teacher5")), .forbidden)
            try await expect(api.get(path, token: school.token("guardian1")), .forbidden)
            try await expect(api.get(path, token: nil), .unauthorized)
            try await expect(api.get("/v1/people/p999999/export", token: school.token("schoolAdmin")), .notFound)
            try await expect(api.call(.delete, "/v1/people/\(school.id("student1"))", token: school.token("schoolAdmin")), .noContent)
            let removed = try await expect(api.get(path, token: school.token("schoolAdmin")), .ok)
            #expect((removed["profile"] as? [String: Any])?["removedAt"] is String)
        }
    }
}
