import Foundation
import PostgresNIO
public import ZvonokCore

/// Counts the weekly rating's figures (contract §6) from the weekly roll-ups of activity and registrations that
/// sql/005 keeps in step with `activity_daily` and `people`, and from the structure; it never reads the message
/// table. One set-based query serves every level. Queued activity (sql/007) is applied first, so a read right after
/// a send counts it.
public struct RatingStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Every unit of `level` with its counts for `week`: all regions for the region level, the municipalities or
    /// schools of `region` below it (ranks are counted within the region, so the whole region is always counted).
    public func units(_ level: RatingLevel, week: RatingWeek, region: String?) async throws -> [RatingUnit] {
        precondition(level == .region || region != nil, "municipalities and schools are counted one region at a time")
        let scope = level == .region ? nil : region
        try await ActivityStore(database: database).applyQueued()
        return try await database.transaction { connection in
            // Tens of thousands of roll-up rows a region: keep the joins and aggregates in memory.
            try await connection.query("SET LOCAL work_mem = '64MB'", logger: database.logger)
            let rows = try await connection.query(Self.query(level: level, week: week, scope: scope), logger: database.logger)
            var units: [RatingUnit] = []
            for try await row in rows { units.append(try RatingUnit(columnsOf: row)) }
            return units
        }
    }

    /// The query, over the weekly roll-ups that sql/005 keeps (never the message table). Its parts:
    /// - `chat_week`: per unit, the counted messages of the week and the chats that had any;
    /// - `dialogue`: the week's chats where a student or guardian wrote a counted message;
    /// - `teacher_week`: per school, the teachers who wrote a counted message (counting only those listed and
    ///   registered by the end of the week and not removed before it), and of them those who wrote in a dialogue;
    /// - `people_week`: per school, the people listed and registered by the end of the week;
    /// - `school_week`: per school listed by the end of the week and not removed before it (sql/011; regions,
    ///   municipalities and classes likewise), all of the above and whether it was registered
    ///   (a registered school admin and at least one class by the end of the week), and whether the official
    ///   registry in force at the end of the week (`registry`: the region's newest upload before it, sql/013) lists it;
    /// - then schools are summed into the units of the level. Units are keyed by number: a region's code is two
    ///   digits. A region's registry counts all its entries; a municipality's, those naming it (by name or external
    ///   id); a school is never divided by a registry.
    static func query(level: RatingLevel, week: RatingWeek, scope: String?) -> PostgresQuery {
        """
        WITH
        bounds AS (
            SELECT \(week.firstDayText)::date AS week, \(week.end)::timestamptz AS week_end, \(scope)::text AS scope, \(level.rawValue)::text AS level
        ),
        chat_week AS (
            SELECT CASE b.level WHEN 'region' THEN r.region_code::bigint WHEN 'municipality' THEN r.municipality_id ELSE r.school_id END AS unit,
                   sum(r.counted) AS messages, count(*) AS chats_active
            FROM rating_chat_weeks r, bounds b
            WHERE r.week = b.week AND (b.scope IS NULL OR r.region_code = b.scope) AND r.counted > 0
            GROUP BY 1
        ),
        dialogue AS (
            SELECT r.chat_id FROM rating_chat_weeks r, bounds b
            WHERE r.week = b.week AND (b.scope IS NULL OR r.region_code = b.scope) AND r.pupil_counted > 0 AND r.counted > 0
        ),
        teacher_week AS (
            SELECT p.school_id, count(*) AS active, count(*) FILTER (WHERE t.engaged) AS engaged
            FROM (SELECT sw.person_id, bool_or(d.chat_id IS NOT NULL) AS engaged
                  FROM bounds b
                  JOIN rating_staff_weeks sw ON sw.week = b.week AND (b.scope IS NULL OR sw.region_code = b.scope) AND sw.counted > 0
                  LEFT JOIN dialogue d ON d.chat_id = sw.chat_id
                  GROUP BY sw.person_id) t
            CROSS JOIN bounds b
            JOIN people p ON p.id = t.person_id AND p.role = 'teacher' AND p.registered_at < b.week_end
                 AND p.listed_at < b.week_end AND (p.removed_at IS NULL OR p.removed_at >= b.week_end)
            GROUP BY p.school_id
        ),
        people_week AS (
            SELECT r.school_id,
                   sum(r.listed) FILTER (WHERE r.role = 'teacher') AS teachers_listed,
                   sum(r.registered) FILTER (WHERE r.role = 'teacher') AS teachers_registered,
                   sum(r.registered) FILTER (WHERE r.role = 'student') AS students_registered,
                   sum(r.registered) FILTER (WHERE r.role = 'guardian') AS guardians_registered,
                   coalesce(sum(r.registered) FILTER (WHERE r.role = 'school_admin'), 0) > 0 AS admin_registered
            FROM rating_people_weeks r, bounds b
            WHERE r.week <= b.week AND (b.scope IS NULL OR r.region_code = b.scope)
            GROUP BY r.school_id
        ),
        registry AS (
            SELECT DISTINCT ON (u.region_code) u.region_code, u.id
            FROM registry_uploads u, bounds b
            WHERE u.uploaded_at < b.week_end AND (b.scope IS NULL OR u.region_code = b.scope)
            ORDER BY u.region_code, u.uploaded_at DESC, u.id DESC
        ),
        registry_entry AS (
            SELECT r.region_code, e.official_id, e.municipality FROM registry r JOIN registry_entries e ON e.upload_id = r.id
        ),
        school_week AS (
            SELECT CASE b.level WHEN 'region' THEN s.region_code::bigint WHEN 'municipality' THEN s.municipality_id ELSE s.id END AS unit,
                   EXISTS (SELECT 1 FROM registry_entry e WHERE e.region_code = s.region_code AND e.official_id = s.official_id) AS official,
                   coalesce(pw.admin_registered, false)
                       AND EXISTS (SELECT 1 FROM classes c WHERE c.school_id = s.id AND c.created_at < b.week_end
                                   AND (c.removed_at IS NULL OR c.removed_at >= b.week_end)) AS registered,
                   pw.teachers_listed, pw.teachers_registered, pw.students_registered, pw.guardians_registered, tw.active, tw.engaged
            FROM bounds b CROSS JOIN schools s
            LEFT JOIN people_week pw ON pw.school_id = s.id
            LEFT JOIN teacher_week tw ON tw.school_id = s.id
            WHERE s.created_at < b.week_end AND (s.removed_at IS NULL OR s.removed_at >= b.week_end) AND (b.scope IS NULL OR s.region_code = b.scope)
        ),
        unit_schools AS (
            SELECT unit, count(*) AS schools_listed, count(*) FILTER (WHERE registered) AS schools_registered,
                   count(*) FILTER (WHERE active > 0) AS schools_active,
                   count(*) FILTER (WHERE registered AND official) AS official_registered,
                   count(*) FILTER (WHERE active > 0 AND official) AS official_active,
                   sum(teachers_listed) AS teachers_listed, sum(teachers_registered) AS teachers_registered,
                   sum(active) AS teachers_active, sum(engaged) AS teachers_engaged,
                   sum(students_registered) AS students_registered, sum(guardians_registered) AS guardians_registered
            FROM school_week GROUP BY unit
        ),
        units AS (
            SELECT r.code::bigint AS unit, r.code AS key, r.code AS region_code, NULL::bigint AS municipality_id, r.name,
                   (SELECT count(*) FROM registry_entry e WHERE e.region_code = r.code) AS official,
                   EXISTS (SELECT 1 FROM registry g WHERE g.region_code = r.code) AS has_registry
            FROM regions r, bounds b WHERE b.level = 'region' AND r.created_at < b.week_end AND (r.removed_at IS NULL OR r.removed_at >= b.week_end)
            UNION ALL
            SELECT m.id, m.id::text, m.region_code, NULL, m.name,
                   (SELECT count(*) FROM registry_entry e WHERE e.region_code = m.region_code AND e.municipality IN (m.name, m.external_id)),
                   EXISTS (SELECT 1 FROM registry_entry e WHERE e.region_code = m.region_code AND e.municipality IN (m.name, m.external_id))
            FROM municipalities m, bounds b WHERE b.level = 'municipality' AND m.created_at < b.week_end
                AND (m.removed_at IS NULL OR m.removed_at >= b.week_end) AND m.region_code = b.scope
            UNION ALL
            SELECT s.id, s.id::text, s.region_code, s.municipality_id, s.name, 0, false
            FROM schools s, bounds b WHERE b.level = 'school' AND s.created_at < b.week_end
                AND (s.removed_at IS NULL OR s.removed_at >= b.week_end) AND s.region_code = b.scope
        )
        SELECT u.key, u.region_code, u.municipality_id, u.name,
               CASE WHEN u.has_registry THEN u.official END::bigint AS schools_official,
               coalesce(us.official_registered, 0)::bigint AS official_registered,
               coalesce(us.official_active, 0)::bigint AS official_active,
               coalesce(us.schools_listed, 0)::bigint AS schools_listed,
               coalesce(us.schools_registered, 0)::bigint AS schools_registered,
               coalesce(us.schools_active, 0)::bigint AS schools_active,
               coalesce(us.teachers_listed, 0)::bigint AS teachers_listed,
               coalesce(us.teachers_registered, 0)::bigint AS teachers_registered,
               coalesce(us.teachers_active, 0)::bigint AS teachers_active,
               coalesce(us.teachers_engaged, 0)::bigint AS teachers_engaged,
               coalesce(us.students_registered, 0)::bigint AS students_registered,
               coalesce(us.guardians_registered, 0)::bigint AS guardians_registered,
               coalesce(cw.messages, 0)::bigint AS messages,
               coalesce(cw.chats_active, 0)::bigint AS chats_active
        FROM units u
        LEFT JOIN unit_schools us ON us.unit = u.unit
        LEFT JOIN chat_week cw ON cw.unit = u.unit
        """
    }
}

extension RatingUnit {
    /// A row of `RatingStore.query`, read by column name.
    fileprivate init(columnsOf row: PostgresRow) throws {
        let columns = row.makeRandomAccess()
        func count(_ column: String) throws -> Int { try columns[column].decode(Int.self) }
        var counts = RatingCounts()
        counts.schoolsListed = try count("schools_listed")
        counts.schoolsRegistered = try count("schools_registered")
        counts.schoolsActive = try count("schools_active")
        counts.teachersListed = try count("teachers_listed")
        counts.teachersRegistered = try count("teachers_registered")
        counts.teachersActive = try count("teachers_active")
        counts.teachersEngaged = try count("teachers_engaged")
        counts.studentsRegistered = try count("students_registered")
        counts.guardiansRegistered = try count("guardians_registered")
        counts.messages = try count("messages")
        counts.chatsActive = try count("chats_active")
        counts.schoolsOfficial = try columns["schools_official"].decode(Int?.self)
        counts.schoolsOfficialRegistered = try count("official_registered")
        counts.schoolsOfficialActive = try count("official_active")
        self.init(
            key: try columns["key"].decode(String.self),
            name: try columns["name"].decode(String.self),
            regionCode: try columns["region_code"].decode(String.self),
            municipalityID: try columns["municipality_id"].decode(Int64?.self),
            counts: counts
        )
    }
}
