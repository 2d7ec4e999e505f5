import Foundation
import PostgresNIO
import Testing
import ZvonokCore
import ZvonokDemo
import ZvonokStorage
import ZvonokTestSupport

/// The roll-ups of sql/005 against a recount from the raw tables, on a generated world that is then changed in the
/// ways the application changes it (deletions within the week, removals, late registrations, restored people).
@Suite struct RatingStoreTests {
    static let options: DemoData.Options = {
        var options = DemoData.Options()
        (options.firstRegion, options.regions, options.municipalities, options.schools) = (50, 2, 2, 6)
        (options.classes, options.students, options.teachers, options.weeks, options.messages, options.seed) = (3, 4, 5, 3, 3000, 7)
        return options
    }()

    @Test func rollUpsAgreeWithARecountFromTheRawTables() async throws {
        try await withTestDatabase { database in
            let summary = try await DemoData(database: database).generate(Self.options)
            #expect(summary.schools == 12 && summary.activityRows > 500)
            try await expectAgreement(database)

            // What the application does later: a delete within the week takes a counted message off its day; an
            // admin removes people and restores one (a roster upload does that); a late invite is activated.
            try await database.query("UPDATE activity_daily SET counted = counted - 1 WHERE counted > 0 AND (chat_id + person_id) % 3 = 0")
            try await database.query("DELETE FROM activity_daily WHERE (chat_id * 7 + person_id) % 11 = 0")
            try await database.query("UPDATE people SET removed_at = now() - interval '9 days' WHERE role IN ('teacher', 'student') AND id % 5 = 0")
            try await database.query("UPDATE people SET removed_at = NULL WHERE role = 'teacher' AND id % 10 = 0")
            try await database.query("UPDATE people SET registered_at = now() - interval '10 days' WHERE registered_at IS NULL AND id % 4 = 0")
            try await expectAgreement(database)
        }
    }

    @Test func theGroupCommitRecordsTheMoscowDayAndItsWeek() async throws {
        try await withTestDatabase { database in
            _ = try await DemoData(database: database).generate(Self.options)
            let rows = try await database.query(
                """
                SELECT c.id, p.id FROM chats c JOIN chat_members m ON m.chat_id = c.id JOIN people p ON p.id = m.person_id
                WHERE c.kind = 'class' AND p.role = 'teacher' AND p.registered_at IS NOT NULL AND p.removed_at IS NULL
                ORDER BY c.id, p.id LIMIT 1
                """
            )
            var pair: (Int64, Int64)?
            for try await row in rows.decode((Int64, Int64).self) { pair = row }
            let (chat, teacher) = try #require(pair)
            let week = RatingWeek.containing(Date())
            let before = try await chatWeek(database, chat, week)
            let committed = try await MessageStore(database: database).commitAccepted([
                PendingMessage(chatID: chat, senderID: teacher, cid: "x", text: "Проверка"),
                PendingMessage(chatID: chat, senderID: teacher, cid: "y", text: "👌"),
            ])
            let sent = Date(timeIntervalSince1970: Double(committed[0].sentAtMilliseconds) / 1000)
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(secondsFromGMT: 3 * 3600)
            formatter.dateFormat = "yyyy-MM-dd"
            try await ActivityStore(database: database).applyQueued()
            let days = try await database.query(
                "SELECT day::text, messages, counted FROM activity_daily WHERE chat_id = \(chat) AND person_id = \(teacher) ORDER BY day DESC LIMIT 1"
            )
            for try await (day, messages, counted) in days.decode((String, Int, Int).self) {
                #expect(day == formatter.string(from: sent))
                #expect(messages == 2 && counted == 1)
            }
            #expect(RatingWeek.containing(sent) == week)
            #expect(try await chatWeek(database, chat, week) == before + 1)
        }
    }

    func chatWeek(_ database: Database, _ chat: Int64, _ week: RatingWeek) async throws -> Int {
        let rows = try await database.query(
            "SELECT coalesce(sum(counted), 0)::bigint FROM rating_chat_weeks WHERE chat_id = \(chat) AND week = \(week.firstDayText)::date")
        for try await counted in rows.decode(Int.self) { return counted }
        return 0
    }

    /// Every level of every week the world has, counted by `RatingStore` and recounted from the raw tables.
    func expectAgreement(_ database: Database, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let current = RatingWeek.containing(Date())
        var week = current
        for _ in 0...(Self.options.weeks + 1) {
            for (level, region) in [(RatingLevel.region, nil), (.municipality, "50"), (.school, "51")] as [(RatingLevel, String?)] {
                let counted = try await RatingStore(database: database).units(level, week: week, region: region)
                let recounted = try await recount(database, level: level, week: week, region: region)
                #expect(counted.map(Self.row).sorted() == recounted.sorted(), "\(level) \(week)", sourceLocation: sourceLocation)
            }
            week = week.previous
        }
    }

    static func row(_ unit: RatingUnit) -> String {
        let c = unit.counts
        return "\(unit.key) \(c.schoolsListed) \(c.schoolsRegistered) \(c.schoolsActive) \(c.teachersListed) \(c.teachersRegistered) "
            + "\(c.teachersActive) \(c.teachersEngaged) \(c.studentsRegistered) \(c.guardiansRegistered) \(c.messages) \(c.chatsActive)"
    }

    /// The definitions of contract §6 read straight off activity_daily, people, schools, classes and chats.
    func recount(_ database: Database, level: RatingLevel, week: RatingWeek, region: String?) async throws -> [String] {
        let rows = try await database.query(
            """
            WITH
            b AS (SELECT \(week.firstDayText)::date AS first_day, \(week.lastDayText)::date AS last_day, \(week.end)::timestamptz AS e,
                         \(region)::text AS scope, \(level.rawValue)::text AS level),
            counted_people AS (
                SELECT p.* FROM people p, b
                WHERE p.listed_at < b.e AND (p.removed_at IS NULL OR p.removed_at >= b.e) AND (b.scope IS NULL OR p.region_code = b.scope)
            ),
            week AS (
                SELECT a.chat_id, a.person_id, sum(a.counted) AS counted FROM activity_daily a, b
                WHERE a.day BETWEEN b.first_day AND b.last_day GROUP BY 1, 2 HAVING sum(a.counted) > 0
            ),
            dialogue AS (SELECT DISTINCT w.chat_id FROM week w JOIN people p ON p.id = w.person_id AND p.role IN ('student', 'guardian')),
            active AS (
                SELECT p.id, p.school_id, bool_or(d.chat_id IS NOT NULL) AS engaged
                FROM b CROSS JOIN week w JOIN counted_people p ON p.id = w.person_id AND p.role = 'teacher'
                LEFT JOIN dialogue d ON d.chat_id = w.chat_id
                WHERE p.registered_at < b.e GROUP BY p.id, p.school_id
            ),
            school AS (
                SELECT s.id, s.region_code, s.municipality_id,
                       EXISTS (SELECT 1 FROM counted_people p WHERE p.school_id = s.id AND p.role = 'school_admin' AND p.registered_at < b.e)
                           AND EXISTS (SELECT 1 FROM classes c WHERE c.school_id = s.id AND c.created_at < b.e) AS registered,
                       (SELECT count(*) FROM counted_people p WHERE p.school_id = s.id AND p.role = 'teacher') AS teachers_listed,
                       (SELECT count(*) FROM counted_people p WHERE p.school_id = s.id AND p.role = 'teacher' AND p.registered_at < b.e) AS teachers_registered,
                       (SELECT count(*) FROM active a WHERE a.school_id = s.id) AS teachers_active,
                       (SELECT count(*) FROM active a WHERE a.school_id = s.id AND a.engaged) AS teachers_engaged,
                       (SELECT count(*) FROM counted_people p WHERE p.school_id = s.id AND p.role = 'student' AND p.registered_at < b.e) AS students,
                       (SELECT count(*) FROM counted_people p WHERE p.school_id = s.id AND p.role = 'guardian' AND p.registered_at < b.e) AS guardians
                FROM schools s, b WHERE s.created_at < b.e AND (b.scope IS NULL OR s.region_code = b.scope)
            ),
            unit_school AS (
                SELECT CASE b.level WHEN 'region' THEN s.region_code WHEN 'municipality' THEN s.municipality_id::text ELSE s.id::text END AS unit, s.*
                FROM school s, b
            ),
            unit_chat AS (
                SELECT CASE b.level WHEN 'region' THEN c.region_code WHEN 'municipality' THEN c.municipality_id::text ELSE c.school_id::text END AS unit,
                       sum(w.counted) AS messages, count(DISTINCT c.id) AS chats
                FROM week w JOIN chats c ON c.id = w.chat_id, b
                WHERE b.scope IS NULL OR c.region_code = b.scope GROUP BY 1
            ),
            units AS (
                SELECT r.code AS unit FROM regions r, b WHERE b.level = 'region' AND r.created_at < b.e
                UNION ALL SELECT m.id::text FROM municipalities m, b WHERE b.level = 'municipality' AND m.created_at < b.e AND m.region_code = b.scope
                UNION ALL SELECT s.id::text FROM schools s, b WHERE b.level = 'school' AND s.created_at < b.e AND s.region_code = b.scope
            )
            SELECT concat_ws(' ', u.unit, count(s.id), count(s.id) FILTER (WHERE s.registered), count(s.id) FILTER (WHERE s.teachers_active > 0),
                             coalesce(sum(s.teachers_listed), 0), coalesce(sum(s.teachers_registered), 0), coalesce(sum(s.teachers_active), 0),
                             coalesce(sum(s.teachers_engaged), 0), coalesce(sum(s.students), 0), coalesce(sum(s.guardians), 0),
                             coalesce(min(c.messages), 0), coalesce(min(c.chats), 0))
            FROM units u LEFT JOIN unit_school s ON s.unit = u.unit LEFT JOIN unit_chat c ON c.unit = u.unit
            GROUP BY u.unit
            """
        )
        var result: [String] = []
        for try await text in rows.decode(String.self) { result.append(text) }
        return result
    }
}
