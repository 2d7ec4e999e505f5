import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import PostgresNIO
import Testing
import ZvonokCore
import ZvonokServer
import ZvonokStorage
import ZvonokTestSupport

/// The weekly rating over a small world whose every figure is known (contract §6, `docs/rating.md`).
///
/// The world is built through the API, then its moments are set in the database to fall around week W (two weeks
/// ago, so complete): everyone listed two weeks before W and registered a week before it, except where a case
/// needs otherwise. Messages go through the group commit's `MessageStore.commit`, and their activity rows are
/// then applied from the queue and moved to the Moscow day the case needs.
@Suite struct WeeklyRatingTests {
    /// The world: SchoolFixture's region 55, plus a lyceum in the first municipality whose admin registers in the
    /// middle of W, a fourth, empty school in the second municipality, region 77 with nothing in it, and teachers
    /// t7…t11 in the first school with their own moments.
    struct World: Sendable {
        var fixture: SchoolFixture
        let week: RatingWeek
        var ids: [String: String] = [:]
        var tokens: [String: String] = [:]

        func id(_ name: String) -> String { ids[name] ?? fixture.id(name) }
        func number(_ name: String) -> Int64 { Int64(id(name).dropFirst())! }
        func token(_ name: String) -> String { tokens[name] ?? fixture.token(name) }
    }

    static let lyceumName = "Лицей «Гармония», корпус \"А\""

    func at(_ week: RatingWeek, day: Int, _ seconds: Int) -> Date {
        week.start.addingTimeInterval(Double(day * 86400 + seconds))
    }

    func build(_ api: APIClient) async throws -> World {
        let fixture = try await SchoolFixture.build(api)
        var world = World(fixture: fixture, week: RatingWeek.containing(Date()).previous.previous)
        let ministry = api.ministryToken
        try expect(await api.post("/v1/regions", token: ministry, ["code": "77", "name": "Москва"]), .created)
        let lyceum = try expect(
            await api.post("/v1/municipalities/\(fixture.id("municipality"))/schools", token: fixture.token("municipal"), ["name": Self.lyceumName]),
            .created)
        world.ids["lyceum"] = lyceum.string("id")
        let empty = try expect(
            await api.post("/v1/municipalities/\(fixture.id("otherMunicipality"))/schools", token: fixture.token("regional"), ["name": "Школа №4"]),
            .created)
        world.ids["emptySchool"] = empty.string("id")
        let lyceumAdmin = try expect(
            await api.post(
                "/v1/schools/\(world.id("lyceum"))/staff", token: fixture.token("municipal"), ["name": "Директор", "role": "school_admin"]), .created)
        world.ids["lyceumAdmin"] = lyceumAdmin.string("id")
        world.tokens["lyceumAdmin"] = try await api.activate(lyceumAdmin.string("inviteCode")!)
        try expect(
            await api.post(
                "/v1/schools/\(world.id("lyceum"))/classes", token: world.token("lyceumAdmin"), ["grade": 10, "letter": "А", "year": "2026/2027"]),
            .created)
        for name in ["t7", "t8", "t9", "t10", "t11"] {
            let created = try expect(
                await api.post("/v1/schools/\(fixture.id("school"))/staff", token: fixture.token("schoolAdmin"), ["name": name, "role": "teacher"]),
                .created)
            world.ids[name] = created.string("id")
            if name != "t9" { world.tokens[name] = try await api.activate(created.string("inviteCode")!) }
        }

        let week = world.week
        let listed = at(week, day: -14, 0), registered = at(week, day: -7, 0)
        try await withRunningDatabase(api.databaseURL) { db in
            for table in ["regions", "municipalities", "schools", "classes"] {
                try await db.query(PostgresQuery(unsafeSQL: "UPDATE \(table) SET created_at = $1", binds: try Self.binds(listed)))
            }
            try await db.query("UPDATE people SET listed_at = \(listed), registered_at = CASE WHEN registered_at IS NOT NULL THEN \(registered) END")
            // The lyceum's admin registers on Wednesday of W; t7 at Monday 00:00 MSK after W, t8 at Sunday 23:59:59.
            try await db.query("UPDATE people SET registered_at = \(at(week, day: 2, 12 * 3600)) WHERE id = \(world.number("lyceumAdmin"))")
            try await db.query("UPDATE people SET registered_at = \(week.end) WHERE id = \(world.number("t7"))")
            try await db.query("UPDATE people SET registered_at = \(week.end.addingTimeInterval(-1)) WHERE id = \(world.number("t8"))")
            // t10 leaves the day after W (still counted for W); t11 left the day before it (not counted).
            try await db.query("UPDATE people SET removed_at = \(week.end.addingTimeInterval(86400)) WHERE id = \(world.number("t10"))")
            try await db.query("UPDATE people SET removed_at = \(week.start.addingTimeInterval(-86400)) WHERE id = \(world.number("t11"))")

            let class5 = try await Self.chat(db, classID: world.fixture.id("class5"))
            let class6 = try await Self.chat(db, classID: world.fixture.id("class6"))
            // teacher5 and student1 talk in 5А: a dialogue. One of teacher5's messages is on Sunday of W.
            try await send(db, world.number("teacher5"), class5, ["Домашнее задание: №5"], day: week.firstDayText)
            try await send(db, world.number("student1"), class5, ["Сделал, спасибо!"], day: week.firstDayText)
            try await send(db, world.number("teacher5"), class5, ["Завтра контрольная"], day: week.lastDayText)
            // teacher6 writes in 6Б; student3 answers with emoji and punctuation only: a broadcast, not a dialogue.
            try await send(db, world.number("teacher6"), class6, ["Собрание в 18:00", "👍"], day: week.firstDayText)
            try await send(db, world.number("student3"), class6, ["👍", "?!", "😀😀", "…"], day: week.firstDayText)
            // Monday 00:00 MSK after W belongs to the next week.
            try await send(db, world.number("teacher6"), class6, ["Новая неделя"], day: week.next.firstDayText)
        }
        return world
    }

    static func binds(_ date: Date) throws -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(date, context: .default)
        return binds
    }

    /// A teacher as the author of their own messages' deletions.
    static func author(_ teacher: Int64) -> Identity {
        Identity(personID: teacher, role: .teacher, name: "", regionCode: nil, municipalityID: nil, schoolID: nil, classID: nil)
    }

    static func chat(_ db: Database, classID: String, kind: String = "class") async throws -> Int64 {
        let rows = try await db.query("SELECT id FROM chats WHERE class_id = \(Int64(classID.dropFirst())!) AND kind = \(kind)")
        for try await id in rows.decode(Int64.self) { return id }
        throw TestFailure("no \(kind) chat for \(classID)")
    }

    /// Sends through the group commit's store, then moves the activity it counted to `day`.
    func send(_ db: Database, _ person: Int64, _ chat: Int64, _ texts: [String], day: String) async throws {
        let batch = texts.map { PendingMessage(chatID: chat, senderID: person, cid: UUID().uuidString, text: $0) }
        _ = try await MessageStore(database: db).commitAccepted(batch)
        try await ActivityStore(database: db).applyQueued()
        try await db.query(
            """
            UPDATE activity_daily SET day = \(day)::date
            WHERE chat_id = \(chat) AND person_id = \(person) AND day = (now() AT TIME ZONE 'UTC' + interval '3 hours')::date
            """
        )
    }

    func rating(_ api: APIClient, _ query: String, token: String) async throws -> Answer {
        try await api.get("/v1/ratings/weekly?\(query)", token: token)
    }

    func item(_ answer: Answer, _ key: String) throws -> [String: Any] {
        try #require(answer.items.first { ($0["id"] as? String ?? $0["code"] as? String) == key }, "no item \(key)")
    }

    /// The §6 columns of an item, in order, as numbers.
    func columns(_ item: [String: Any]) -> [Double] {
        Rating.columns.map { (item[$0] as? NSNumber)?.doubleValue ?? .nan }
    }

    @Test func everyColumnOfEveryLevelIsExact() async throws {
        try await withTestServer { api in
            let world = try await build(api)
            let ministry = api.ministryToken
            let week = world.week.description

            let schools = try expect(await rating(api, "week=\(week)&level=school&region=55", token: ministry), .ok)
            #expect(schools.string("week") == week)
            #expect(schools.string("level") == "school")
            #expect(schools["partial"] as? Bool == false)
            #expect(schools.string("formula") == "v1: 100 × (0.3·schoolsShare + 0.3·teachersShare + 0.4·teachersActiveShare)")
            // Ordered by rank; the two empty schools tie at 0 and are ordered by id.
            #expect(
                schools.items.compactMap { $0["id"] as? String } == [
                    world.id("school"), world.id("lyceum"), world.id("otherSchool"), world.id("emptySchool"),
                ])
            #expect(schools.items.compactMap { $0["rank"] as? Int } == [1, 2, 3, 4])
            // schoolsListed, schoolsRegistered, schoolsShare, teachersListed, teachersRegistered, teachersShare,
            // teachersActive, teachersActiveShare, teachersEngaged, teachersEngagedShare, schoolsActive,
            // schoolsActiveShare, studentsRegistered, guardiansRegistered, messages, chatsActive, score, rank.
            // Teachers listed: teacher5, teacher6, t7 (registers after W), t8 (Sunday 23:59:59), t9 (never), t10
            // (leaves after W); t11 left before W. Messages: teacher5's two, student1's one, teacher6's one.
            #expect(columns(try item(schools, world.id("school"))) == [1, 1, 1, 6, 4, 0.6667, 2, 0.5, 1, 0.25, 1, 1, 3, 1, 4, 2, 70, 1])
            #expect(columns(try item(schools, world.id("lyceum"))) == [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 30, 2])
            #expect(columns(try item(schools, world.id("otherSchool"))) == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3])
            let lyceum = try item(schools, world.id("lyceum"))
            #expect(lyceum["name"] as? String == Self.lyceumName)
            #expect(lyceum["regionCode"] as? String == "55")
            #expect(lyceum["municipalityId"] as? String == world.id("municipality"))

            let municipalities = try expect(await rating(api, "week=\(week)&level=municipality&region=55", token: ministry), .ok)
            #expect(municipalities.items.compactMap { $0["id"] as? String } == [world.id("municipality"), world.id("otherMunicipality")])
            #expect(
                columns(try item(municipalities, world.id("municipality"))) == [2, 2, 1, 6, 4, 0.6667, 2, 0.5, 1, 0.25, 1, 0.5, 3, 1, 4, 2, 70, 1])
            #expect(columns(try item(municipalities, world.id("otherMunicipality"))) == [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2])

            let regions = try expect(await rating(api, "week=\(week)&level=region", token: ministry), .ok)
            #expect(regions.items.compactMap { $0["code"] as? String } == ["55", "77"])
            // 100 × (0.3·2/4 + 0.3·4/6 + 0.4·2/4) = 55.
            #expect(columns(try item(regions, "55")) == [4, 2, 0.5, 6, 4, 0.6667, 2, 0.5, 1, 0.25, 1, 0.25, 3, 1, 4, 2, 55, 1])
            // Zero denominators give zero shares.
            #expect(columns(try item(regions, "77")) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2])
        }
    }

    @Test func weeksTurnAtMondayMidnightMoscowTime() async throws {
        try await withTestServer { api in
            let world = try await build(api)
            let ministry = api.ministryToken
            // The week before W: the lyceum's admin had not registered (it ties at 0 with the school listed before
            // it), nobody had written, t7 and t8 had not registered, and t11 had left already.
            let before = try expect(await rating(api, "week=\(world.week.previous)&level=school&region=55", token: ministry), .ok)
            #expect(columns(try item(before, world.id("lyceum"))) == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3])
            // 100 × (0.3·1 + 0.3·3/6 + 0) = 45.
            #expect(columns(try item(before, world.id("school"))) == [1, 1, 1, 6, 3, 0.5, 0, 0, 0, 0, 0, 0, 3, 1, 0, 0, 45, 1])
            // The week after W: t7 registered at its first instant, t10 left during it; teacher6's Monday message
            // counts here (active, not engaged).
            let after = try expect(await rating(api, "week=\(world.week.next)&level=school&region=55", token: ministry), .ok)
            // 100 × (0.3·1 + 0.3·4/5 + 0.4·1/4) = 64.
            #expect(columns(try item(after, world.id("school"))) == [1, 1, 1, 5, 4, 0.8, 1, 0.25, 0, 0, 1, 1, 3, 1, 1, 1, 64, 1])
        }
    }

    @Test func whoSeesWhat() async throws {
        try await withTestServer { api in
            let world = try await build(api)
            let week = "week=\(world.week)"
            for name in ["schoolAdmin", "teacher5", "student1", "guardian1"] {
                let answer = try expect(await rating(api, "\(week)&level=school&region=55", token: world.token(name)), .forbidden)
                #expect(answer.errorCode == "forbidden")
            }
            try expect(await api.get("/v1/ratings/weekly?level=region", token: nil), .unauthorized)

            // A regional admin sees their region's row at the region level, with its rank among all regions.
            let regional = world.token("regional")
            let own = try expect(await rating(api, "\(week)&level=region", token: regional), .ok)
            #expect(own.items.compactMap { $0["code"] as? String } == ["55"])
            #expect(own.items.first?["rank"] as? Int == 1)
            try expect(await rating(api, "\(week)&level=region&region=77", token: regional), .forbidden)
            try expect(await rating(api, "\(week)&level=school&region=77", token: regional), .forbidden)
            let schools = try expect(await rating(api, "\(week)&level=school", token: regional), .ok)
            #expect(schools.items.count == 4)

            // A municipal admin sees their municipality, ranked within the region, and its schools.
            let municipal = world.token("municipal")
            try expect(await rating(api, "\(week)&level=region", token: municipal), .forbidden)
            let municipality = try expect(await rating(api, "\(week)&level=municipality", token: municipal), .ok)
            #expect(municipality.items.compactMap { $0["id"] as? String } == [world.id("municipality")])
            let mine = try expect(await rating(api, "\(week)&level=school", token: municipal), .ok)
            #expect(mine.items.compactMap { $0["id"] as? String } == [world.id("school"), world.id("lyceum")])
            #expect(mine.items.compactMap { $0["rank"] as? Int } == [1, 2])
            try expect(await rating(api, "\(week)&level=school&municipality=\(world.id("otherMunicipality"))", token: municipal), .forbidden)
            try expect(await rating(api, "\(week)&level=school&region=77", token: municipal), .forbidden)

            // The ministry narrows to a municipality; ranks stay those within the region.
            let other = try expect(
                await rating(api, "\(week)&level=school&municipality=\(world.id("otherMunicipality"))", token: api.ministryToken), .ok)
            #expect(other.items.compactMap { $0["rank"] as? Int } == [3, 4])
            try expect(await rating(api, "\(week)&level=school&municipality=m999999", token: api.ministryToken), .notFound)
            try expect(await rating(api, "\(week)&level=school&region=99", token: api.ministryToken), .notFound)
        }
    }

    @Test func badAndFutureWeeksAnswer400() async throws {
        try await withTestServer { api in
            let ministry = api.ministryToken
            let current = RatingWeek.containing(Date())
            for query in [
                "level=region&week=\(current.next)", "level=region&week=2026-W99", "level=region&week=47", "level=everything",
                "week=\(current)", "level=school", "level=region&region=5", "level=region&municipality=m1",
            ] {
                let answer = try expect(await rating(api, query, token: ministry), .badRequest)
                #expect(answer.errorCode == "invalid_argument", "\(query)")
            }
            // Without a week: the last complete one.
            let last = try expect(await rating(api, "level=region", token: ministry), .ok)
            #expect(last.string("week") == current.previous.description)
            #expect(last["partial"] as? Bool == false)
        }
    }

    @Test func theCurrentWeekIsLiveAndPartial() async throws {
        try await withTestServer { api in
            let fixture = try await SchoolFixture.build(api)
            let current = RatingWeek.containing(Date())
            try await withRunningDatabase(api.databaseURL) { db in
                let class5 = try await Self.chat(db, classID: fixture.id("class5"))
                let teacher = Int64(fixture.id("teacher5").dropFirst())!
                _ = try await MessageStore(database: db).commitAccepted([
                    PendingMessage(chatID: class5, senderID: teacher, cid: "a", text: "Привет, 5А"),
                    PendingMessage(chatID: class5, senderID: teacher, cid: "b", text: "🎉"),
                ])
            }
            let live = try expect(await rating(api, "week=\(current)&level=school&region=55", token: api.ministryToken), .ok)
            #expect(live["partial"] as? Bool == true)
            let school = try item(live, fixture.id("school"))
            #expect(school["teachersActive"] as? Int == 1)
            #expect(school["messages"] as? Int == 1)
            #expect(school["chatsActive"] as? Int == 1)
            #expect(school["teachersEngaged"] as? Int == 0)
        }
    }

    @Test func aMessageDeletedDuringItsWeekStopsCountingAndOneDeletedLaterStillCounts() async throws {
        try await withTestServer { api in
            let fixture = try await SchoolFixture.build(api)
            let current = RatingWeek.containing(Date())
            try await withRunningDatabase(api.databaseURL) { db in
                let class5 = try await Self.chat(db, classID: fixture.id("class5"))
                let class6 = try await Self.chat(db, classID: fixture.id("class6"))
                let teacher5 = Int64(fixture.id("teacher5").dropFirst())!, teacher6 = Int64(fixture.id("teacher6").dropFirst())!
                let store = MessageStore(database: db)
                let (author5, author6) = (Self.author(teacher5), Self.author(teacher6))
                let sent = try await store.commitAccepted([
                    PendingMessage(chatID: class5, senderID: teacher5, cid: "1", text: "Первое"),
                    PendingMessage(chatID: class5, senderID: teacher5, cid: "2", text: "Второе"),
                    PendingMessage(chatID: class6, senderID: teacher6, cid: "3", text: "Единственное"),
                ])
                // Deleted within the week they were sent in: teacher5 keeps one message, teacher6 none.
                _ = try await store.delete(chat: class5, seq: sent[1].seq, by: author5)
                _ = try await store.delete(chat: class6, seq: sent[2].seq, by: author6)
                // Sent last week (stored as the group commit stored it then) and deleted now, after its week. The
                // school has to have been there last week to be rated for it.
                let lastWeek = current.previous
                try await db.query("UPDATE schools SET created_at = \(lastWeek.start)")
                try await db.query(
                    """
                    INSERT INTO messages (chat_id, seq, sent_at, sender_id, cid, text, counted)
                    VALUES (\(class6), 1000, \(lastWeek.start.addingTimeInterval(36000)), \(teacher6), 'old', 'Прошлая неделя', true)
                    """
                )
                try await db.query(
                    "INSERT INTO activity_daily (day, chat_id, person_id, messages, counted) VALUES (\(lastWeek.firstDayText)::date, \(class6), \(teacher6), 1, 1)"
                )
                _ = try await store.delete(chat: class6, seq: 1000, by: author6)
            }
            let now = try expect(await rating(api, "week=\(current)&level=school&region=55", token: api.ministryToken), .ok)
            let school = try item(now, fixture.id("school"))
            #expect(school["messages"] as? Int == 1)
            #expect(school["chatsActive"] as? Int == 1)
            #expect(school["teachersActive"] as? Int == 1)
            let before = try expect(await rating(api, "week=\(current.previous)&level=school&region=55", token: api.ministryToken), .ok)
            #expect(try item(before, fixture.id("school"))["messages"] as? Int == 1)
        }
    }

    @Test func csvHasBomHeaderAndEscapedNames() async throws {
        try await withTestServer { api in
            let world = try await build(api)
            let (status, headers, body) = try await api.client.execute(
                uri: "/v1/ratings/weekly?week=\(world.week)&level=school&region=55",
                method: .get,
                headers: [.authorization: "Bearer \(api.ministryToken)", .accept: "text/csv"],
                body: nil
            ) { response in (response.status, response.headers, Data(buffer: response.body, byteTransferStrategy: .copy)) }
            #expect(status == .ok)
            #expect(headers[.contentType] == "text/csv; charset=utf-8")
            #expect(Array(body.prefix(3)) == [0xEF, 0xBB, 0xBF])
            let lines = String(decoding: body.dropFirst(3), as: UTF8.self).components(separatedBy: "\r\n")
            #expect(lines[0] == "id,name,regionCode,municipalityId," + (Rating.columns + Rating.registryColumns).joined(separator: ","))
            #expect(
                lines[1]
                    == "\(world.id("school")),Школа №1,55,\(world.id("municipality")),1,1,1.0000,6,4,0.6667,2,0.5000,1,0.2500,1,1.0000,3,1,4,2,70.00,1,,false,"
            )
            #expect(
                lines[2]
                    == "\(world.id("lyceum")),\"Лицей «Гармония», корпус \"\"А\"\"\",55,\(world.id("municipality")),1,1,1.0000,0,0,0.0000,0,0.0000,0,0.0000,0,0.0000,0,0,0,0,30.00,2,,false,"
            )
            #expect(lines.count == 6 && lines[5].isEmpty)

            // JSON numbers print as the rounded decimals, and a past week answers the same bytes every time.
            var bodies: [String] = []
            for _ in 0..<2 {
                bodies.append(
                    try await api.client.execute(
                        uri: "/v1/ratings/weekly?week=\(world.week)&level=region", method: .get,
                        headers: [.authorization: "Bearer \(api.ministryToken)"], body: nil
                    ) { response in String(buffer: response.body) })
            }
            #expect(bodies[0] == bodies[1])
            #expect(bodies[0].contains("\"teachersShare\":0.6667}"))
            #expect(bodies[0].contains("\"score\":55,"))
        }
    }
}
