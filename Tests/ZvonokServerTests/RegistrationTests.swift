import Foundation
import Hummingbird
import Testing
import ZvonokServer

@Suite struct RegistrationTests {
    @Test func everyoneLandsInExactlyTheirChats() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            func kinds(_ person: String) async throws -> [String: [String]] {
                let chats = try await expect(api.get("/v1/me/chats", token: school.token(person)), .ok)
                return Dictionary(grouping: chats.items, by: { $0["kind"] as! String }).mapValues { $0.map { $0["title"] as! String }.sorted() }
            }
            #expect(
                try await kinds("teacher5") == [
                    "class": ["5А класс"], "class_parents": ["5А — родители"], "school": ["Школа №1"], "school_staff": ["Школа №1 — педагоги"],
                ])
            #expect(try await kinds("student1") == ["class": ["5А класс"], "school": ["Школа №1"]])
            #expect(try await kinds("student3") == ["class": ["6Б класс"], "school": ["Школа №1"]])
            #expect(try await kinds("guardian1") == ["class_parents": ["5А — родители"], "school": ["Школа №1"]])
            #expect(try await kinds("schoolAdmin") == ["municipality": ["Омск"], "school": ["Школа №1"], "school_staff": ["Школа №1 — педагоги"]])
            #expect(try await kinds("municipal") == ["municipality": ["Омск"]])
            #expect(try await kinds("regional") == [:])

            let me = try await expect(api.get("/v1/me", token: school.token("student1")), .ok)
            #expect(me.string("role") == "student")
            #expect(me["registered"] as? Bool == true)
            #expect(me.string("classId") == school.id("class5"))
            #expect(me["inviteCode"] == nil)
        }
    }

    @Test func aStudentMovingClassLeavesTheOldClassChatsWithTheirGuardian() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let moved = try await expect(
                api.call(.patch, "/v1/people/\(school.id("student1"))", token: school.token("schoolAdmin"), json: ["classId": school.id("class6")]),
                .ok
            )
            #expect(moved.string("classId") == school.id("class6"))
            let studentChats = try await api.get("/v1/me/chats", token: school.token("student1")).items.map { $0["title"] as! String }
            #expect(Set(studentChats) == ["6Б класс", "Школа №1"])
            let guardianChats = try await api.get("/v1/me/chats", token: school.token("guardian1")).items.map { $0["title"] as! String }
            #expect(Set(guardianChats) == ["6Б — родители", "Школа №1"])
            // Well-formed, but ruled out by who the person is: a conflict, not bad input.
            let teacher = try await api.call(
                .patch, "/v1/people/\(school.id("teacher5"))", token: school.token("schoolAdmin"), json: ["classId": school.id("class6")])
            #expect(teacher.status == .conflict)
        }
    }

    @Test func unassigningAndRemovingPeopleTakesThemOutOfChats() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            try await expect(
                api.call(.delete, "/v1/classes/\(school.id("class5"))/teachers/\(school.id("teacher5"))", token: school.token("schoolAdmin")),
                .noContent
            )
            let teacherChats = try await api.get("/v1/me/chats", token: school.token("teacher5")).items.map { $0["kind"] as! String }
            #expect(Set(teacherChats) == ["school", "school_staff"])

            try await expect(api.call(.delete, "/v1/people/\(school.id("student2"))", token: school.token("schoolAdmin")), .noContent)
            // A removed person's token stops working at once.
            try await expect(api.get("/v1/me", token: school.token("student2")), .unauthorized)
            let students = try await api.get("/v1/classes/\(school.id("class5"))/students", token: school.token("schoolAdmin")).items
            #expect(students.map { $0["id"] as! String } == [school.id("student1")])
        }
    }

    @Test func collectionsPageWithOpaqueCursors() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let path = "/v1/schools/\(school.id("school"))/classes"
            try await expect(api.post(path, token: school.token("schoolAdmin"), ["grade": 7, "letter": "В", "year": "2026/2027"]), .created)
            let first = try await expect(api.get("\(path)?limit=2", token: school.token("schoolAdmin")), .ok)
            #expect(first.items.count == 2)
            let cursor = try #require(first.string("next"))
            let second = try await expect(api.get("\(path)?limit=2&cursor=\(cursor)", token: school.token("schoolAdmin")), .ok)
            #expect(second.items.count == 1)
            #expect((second.json as? [String: Any])?.keys.contains("next") == true)
            #expect(second["next"] is NSNull)
            #expect(Set((first.items + second.items).map { $0["id"] as! String }).count == 3)
            try await expect(api.get("\(path)?limit=0", token: school.token("schoolAdmin")), .badRequest)
            try await expect(api.get("\(path)?cursor=%%%", token: school.token("schoolAdmin")), .badRequest)
        }
    }

    @Test func directChatsFollowTheAllowedPairs() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let opened = try await expect(api.post("/v1/chats/direct", token: school.token("teacher5"), ["userId": school.id("guardian1")]), .created)
            #expect(opened.string("kind") == "direct")
            #expect(opened.string("title") == "Мама")
            let again = try await expect(api.post("/v1/chats/direct", token: school.token("guardian1"), ["userId": school.id("teacher5")]), .ok)
            #expect(again.string("id") == opened.string("id"))
            #expect(again.string("title") == "teacher5")
            try await expect(api.post("/v1/chats/direct", token: school.token("student1"), ["userId": school.id("student2")]), .forbidden)
            try await expect(api.post("/v1/chats/direct", token: school.token("guardian1"), ["userId": school.id("student3")]), .forbidden)
            try await expect(api.post("/v1/chats/direct", token: school.token("teacher5"), ["userId": school.id("teacher6")]), .created)
            try await expect(api.post("/v1/chats/direct", token: school.token("teacher5"), ["userId": "p999999"]), .notFound)
        }
    }

    @Test func invitesWorkOnceAndCanBeReissued() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let created = try await expect(
                api.post("/v1/classes/\(school.id("class5"))/students", token: school.token("schoolAdmin"), ["name": "Новенький"]), .created)
            let code = try #require(created.string("inviteCode"))
            #expect(code.count == 24)
            // Typed in lower case without dashes still works, once.
            let typed = code.lowercased().replacingOccurrences(of: "-", with: "")
            _ = try await api.activate(typed)
            try await expect(api.post("/v1/invites/\(code)/activate", token: nil), .notFound)

            let reissued = try await expect(api.post("/v1/people/\(created.string("id")!)/invite", token: school.token("schoolAdmin")), .created)
            let fresh = try #require(reissued.string("inviteCode"))
            let again = try await expect(api.post("/v1/people/\(created.string("id")!)/invite", token: school.token("schoolAdmin")), .created)
            // Reissuing voids the previous code.
            try await expect(api.post("/v1/invites/\(fresh)/activate", token: nil), .notFound)
            _ = try await api.activate(again.string("inviteCode")!)
        }
    }

    @Test func expiredInvitesAreRefused() async throws {
        try await withTestServer(configure: { $0.inviteLifetime = .zero }) { api in
            let region = try await expect(api.post("/v1/regions", token: api.ministryToken, ["code": "77", "name": "Москва"]), .created)
            #expect(region.string("code") == "77")
            let admin = try await expect(api.post("/v1/regions/77/admins", token: api.ministryToken, ["name": "Админ"]), .created)
            try await expect(api.post("/v1/invites/\(admin.string("inviteCode")!)/activate", token: nil), .notFound)
        }
    }

    @Test func activationIsRateLimitedPerAddress() async throws {
        try await withTestServer { api in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<12 {
                statuses.append(try await api.post("/v1/invites/AAAA-AAAA-AAAA-AAAA-AAAA/activate", token: nil).status)
            }
            #expect(statuses.prefix(10).allSatisfy { $0 == .notFound })
            #expect(statuses.last == .tooManyRequests)
            let limited = try await api.post("/v1/invites/AAAA-AAAA-AAAA-AAAA-AAAA/activate", token: nil)
            #expect(limited.errorCode == "rate_limited")
        }
    }

    @Test func signingOutRevokesTheToken() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            try await expect(api.call(.delete, "/v1/me/token", token: school.token("teacher6")), .noContent)
            let after = try await expect(api.get("/v1/me", token: school.token("teacher6")), .unauthorized)
            #expect(after.errorCode == "unauthenticated")
        }
    }
}
