import Foundation
import Hummingbird
import PostgresNIO
import Testing
import ZvonokCore
import ZvonokStorage

/// The rollover into the next school year (issue 20): classes move up keeping their chats and history, the eleventh
/// grade graduates with its students and the guardians who have no other child in the school, non-homeroom
/// assignments go, the graduated class's chats are archived; a dry run answers exactly what applying does, and a
/// second apply changes nothing.
@Suite struct RolloverTests {
    /// SchoolFixture's school plus 11А (homeroom teacher5) with grad1 — whose guardian is guardian1, also the parent
    /// of student1 in 5А — and grad2 with a guardian of their own; teacher6 also teaches 5А, not as its homeroom teacher.
    struct World {
        var fixture: SchoolFixture
        var ids: [String: String] = [:]
        var tokens: [String: String] = [:]

        func id(_ name: String) -> String { ids[name] ?? fixture.id(name) }
        func token(_ name: String) -> String { tokens[name] ?? fixture.token(name) }
    }

    static let years = ["from": "2026/2027", "to": "2027/2028"]

    func build(_ api: APIClient) async throws -> World {
        var world = World(fixture: try await SchoolFixture.build(api))
        let admin = world.token("schoolAdmin")
        let eleventh = try await expect(
            api.post("/v1/schools/\(world.id("school"))/classes", token: admin, ["grade": 11, "letter": "А", "year": "2026/2027"]), .created)
        world.ids["class11"] = eleventh.string("id")
        try await expect(
            api.post("/v1/classes/\(world.id("class11"))/teachers", token: admin, ["staffId": world.id("teacher5"), "homeroom": true]), .created)
        try await expect(
            api.post("/v1/classes/\(world.id("class5"))/teachers", token: admin, ["staffId": world.id("teacher6"), "homeroom": false]), .created)
        for name in ["grad1", "grad2"] {
            let created = try await expect(api.post("/v1/classes/\(world.id("class11"))/students", token: admin, ["name": name]), .created)
            world.ids[name] = created.string("id")
            world.tokens[name] = try await api.activate(created.string("inviteCode")!)
        }
        // No route links a guardian to a second child (a roster upload does): the row, then a creation that syncs the school.
        try await withRunningDatabase(api.databaseURL) { db in
            let guardian = Int64(world.id("guardian1").dropFirst())!, student = Int64(world.id("grad1").dropFirst())!
            try await db.query("INSERT INTO guardianships (guardian_id, student_id) VALUES (\(guardian), \(student))")
        }
        let parent = try await expect(api.post("/v1/students/\(world.id("grad2"))/guardians", token: admin, ["name": "Отец"]), .created)
        world.ids["guardian2"] = parent.string("id")
        world.tokens["guardian2"] = try await api.activate(parent.string("inviteCode")!)
        return world
    }

    /// The id of the caller's chat with this title.
    func chat(_ api: APIClient, token: String, title: String) async throws -> String? {
        try await api.get("/v1/me/chats", token: token).items.first { $0["title"] as? String == title }?["id"] as? String
    }

    func rollover(_ api: APIClient, _ world: World, dryRun: Bool) async throws -> [String: Any] {
        var body: [String: Any] = Self.years
        body["dryRun"] = dryRun
        let answer = try await expect(api.post("/v1/schools/\(world.id("school"))/rollover", token: world.token("schoolAdmin"), body), .ok)
        return try #require(answer.json as? [String: Any])
    }

    @Test func aSchoolRolledOverTwice() async throws {
        try await withTestServer { api in
            let world = try await build(api)
            let class5Chat = try #require(try await chat(api, token: world.token("teacher5"), title: "5А класс"))
            let class11Chat = try #require(try await chat(api, token: world.token("teacher5"), title: "11А класс"))
            let parents11Chat = try #require(try await chat(api, token: world.token("guardian1"), title: "11А — родители"))
            try await withSocket(api, token: world.token("teacher5")) { socket, _ in
                try await socket.send(["type": "send", "chat": class5Chat, "cid": "a", "text": "Контрольная в пятницу"])
                try await socket.send(["type": "send", "chat": class11Chat, "cid": "b", "text": "Выпускной в июне"])
                #expect(try await socket.answers(2) == ["a": "ack", "b": "ack"])
            }

            let planned = try await rollover(api, world, dryRun: true)
            #expect(try await api.get("/v1/classes/\(world.id("class5"))", token: world.token("schoolAdmin"))["grade"] as? Int == 5)
            try await expect(api.get("/v1/me", token: world.token("grad1")), .ok)

            let applied = try await rollover(api, world, dryRun: false)
            #expect(planned["dryRun"] as? Bool == true && applied["dryRun"] as? Bool == false)
            #expect(
                NSDictionary(dictionary: planned.filter { $0.key != "dryRun" }).isEqual(to: applied.filter { $0.key != "dryRun" }),
                "the dry run's plan equals what was applied")
            #expect(Self.names(applied["classes"], "from", "to") == ["5А→6А", "6Б→7Б"])
            #expect(Self.names(applied["graduated"], "id", "name") == ["\(world.id("class11"))→11А"])
            #expect(
                Set(Self.names(applied["leaving"], "id", "role")) == [
                    "\(world.id("grad1"))→student", "\(world.id("grad2"))→student", "\(world.id("guardian2"))→guardian",
                ])
            #expect(Set(Self.names(applied["archivedChats"], "id", "title")) == ["\(class11Chat)→11А класс", "\(parents11Chat)→11А — родители"])
            #expect(Self.names(applied["clearedAssignments"], "classId", "staffId") == ["\(world.id("class5"))→\(world.id("teacher6"))"])

            let again = try await rollover(api, world, dryRun: false)
            for key in ["classes", "graduated", "leaving", "archivedChats", "clearedAssignments"] {
                #expect((again[key] as? [Any])?.isEmpty == true, "a second apply changes nothing: \(key)")
            }
            let audit = try await api.get("/v1/audit?action=school.rollover", token: world.token("schoolAdmin")).items
            #expect(audit.count == 1)

            try await checkAfterRollover(api, world, class5Chat: class5Chat, class11Chat: class11Chat, parents11Chat: parents11Chat)
        }
    }

    /// Classes moved up with their chats and history, graduates gone, a guardian with a younger child kept, the
    /// graduated class's chats readable and closed to new messages.
    func checkAfterRollover(_ api: APIClient, _ world: World, class5Chat: String, class11Chat: String, parents11Chat: String) async throws {
        let admin = world.token("schoolAdmin")
        let moved = try await api.get("/v1/classes/\(world.id("class5"))", token: admin)
        #expect(moved["grade"] as? Int == 6 && moved.string("year") == "2027/2028")
        try await expect(api.get("/v1/classes/\(world.id("class11"))", token: admin), .notFound)
        #expect(try await chat(api, token: world.token("teacher5"), title: "6А класс") == class5Chat)
        let history = try await api.get("/v1/chats/\(class5Chat)/messages", token: world.token("student1")).items
        #expect(history.compactMap { $0["text"] as? String } == ["Контрольная в пятницу"])
        #expect(try await chat(api, token: world.token("teacher6"), title: "6А класс") == nil, "teacher6's non-homeroom assignment is cleared")

        for leaver in ["grad1", "grad2", "guardian2"] { try await expect(api.get("/v1/me", token: world.token(leaver)), .unauthorized) }
        try await expect(api.get("/v1/me", token: world.token("guardian1")), .ok)
        #expect(try await chat(api, token: world.token("guardian1"), title: "6А — родители") != nil)
        let students = try await api.get("/v1/classes/\(world.id("class5"))/students", token: admin).items.compactMap { $0["id"] as? String }
        #expect(Set(students) == [world.id("student1"), world.id("student2")])

        let archived = try await api.get("/v1/chats/\(class11Chat)/messages", token: world.token("teacher5")).items
        #expect(archived.compactMap { $0["text"] as? String } == ["Выпускной в июне"])
        try await expect(api.get("/v1/chats/\(parents11Chat)/messages", token: world.token("guardian1")), .ok)
        try await withSocket(api, token: world.token("teacher5")) { socket, _ in
            try await socket.send(["type": "send", "chat": class11Chat, "cid": "c", "text": "Ещё одно"])
            let refused = try await socket.next("error")
            #expect(refused["code"] as? String == "forbidden" && refused["ref"] as? String == "c")
        }
    }

    @Test func refusalsAndAreas() async throws {
        try await withTestServer { api in
            let world = try await build(api)
            let path = "/v1/schools/\(world.id("school"))/rollover"
            let admin = world.token("schoolAdmin")
            for bad: [String: Any] in [
                ["from": "2026/2027", "to": "2028/2029", "dryRun": true], ["from": "2026", "to": "2027/2028", "dryRun": true],
                ["from": "2026/2027", "to": "2027/2028"], ["from": "2026/2027", "to": "2027/2028", "dryRun": true, "graduatingGrades": [12]],
                ["from": "2026/2027", "to": "2027/2028", "dryRun": "yes"],
            ] {
                #expect(try await expect(api.post(path, token: admin, bad), .badRequest).errorCode == "invalid_argument")
            }
            let body: [String: Any] = ["from": "2026/2027", "to": "2027/2028", "dryRun": false]
            try await expect(api.post(path, token: world.token("teacher5"), body), .forbidden)
            try await expect(api.post("/v1/schools/\(world.id("otherSchool"))/rollover", token: admin, body), .forbidden)
            try await expect(api.post(path, token: nil, body), .unauthorized)

            // A new-year 6А already made: 5А cannot move up, and nothing changes.
            try await expect(
                api.post("/v1/schools/\(world.id("school"))/classes", token: admin, ["grade": 6, "letter": "А", "year": "2027/2028"]), .created)
            let refused = try await expect(api.post(path, token: admin, body), .conflict)
            #expect(
                (refused["error"] as? [String: Any])?["message"] as? String
                    == "2027/2028 already has 6А: rename or remove those classes, then roll the school over")
            #expect(try await api.get("/v1/classes/\(world.id("class5"))", token: admin)["grade"] as? Int == 5)

            // The region, school by school: a dry run lists both schools' plans.
            var dry = body
            dry["dryRun"] = true
            let region = try await expect(
                api.post(
                    "/v1/regions/55/rollover", token: world.token("regional"),
                    ["from": "2026/2027", "to": "2027/2028", "dryRun": true, "graduatingGrades": [9, 11]]), .conflict)
            #expect(region.errorCode == "conflict")
            let municipality = try await expect(
                api.post("/v1/municipalities/\(world.id("otherMunicipality"))/rollover", token: world.token("regional"), dry), .ok)
            #expect(((municipality["schools"] as? [[String: Any]])?.compactMap { $0["schoolId"] as? String }) == [world.id("otherSchool")])
            try await expect(api.post("/v1/municipalities/\(world.id("otherMunicipality"))/rollover", token: admin, dry), .forbidden)
        }
    }

    /// `from→to` of each item of a plan's list, as text.
    static func names(_ list: Any?, _ first: String, _ second: String) -> [String] {
        ((list as? [[String: Any]]) ?? []).map { "\($0[first] as? String ?? "?")→\($0[second] as? String ?? "?")" }
    }
}
