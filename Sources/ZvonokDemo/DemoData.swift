import Logging
import PostgresNIO
public import ZvonokCore
public import ZvonokStorage

/// Fills a database with a realistic structure and weeks of activity, for demos and the rating's benchmark.
///
/// Everything is set-based SQL (generate_series, hashing), so a region of 2,000 schools and a million people takes
/// minutes, not hours. Randomness comes from hashing each thing's name with the seed (`hashtextextended`), never
/// from `random()`: the same options and seed on an empty database on the same day (everything is placed relative
/// to the current Moscow week, and nothing after today's start) give the same rows, ids included.
///
/// What it writes: regions with their admins; municipalities with their admins and chats; schools (a tenth listed
/// during the traffic weeks) with an admin, teachers, classes and their chats, students and a guardian for each,
/// class assignments, guardianships and chat memberships. 85% of schools adopt the platform on some day (their
/// admin registers); after that 88% of their teachers, 65% of students and 55% of guardians register within three
/// to six weeks; 2% of registered teachers leave. Activity is written straight into `activity_daily` (the
/// rating's source), not as message rows: about `messages` messages over the weeks, 45% from teachers, 5% from
/// school admins, 30% from students and 20% from guardians, on days spread over each person's time on the
/// platform (three in ten registered teachers hardly write); a tenth of the sending days are emoji-only and a tenth
/// more hold one emoji-only message. Rows are merged per day, chat and sender, as the group commit merges them.
public struct DemoData: Sendable {
    /// The size of the world to make.
    public struct Options: Sendable {
        public var firstRegion = 1
        public var regions = 3
        /// Per region.
        public var municipalities = 5
        /// Per region, spread over its municipalities.
        public var schools = 20
        /// Per school.
        public var classes = 11
        /// Per class; each has one guardian.
        public var students = 20
        /// Per school.
        public var teachers = 25
        /// Weeks of traffic before the current week (which gets its days up to yesterday too).
        public var weeks = 4
        /// Messages over all the weeks, roughly.
        public var messages = 50_000
        public var seed = 1

        public init() {}

        public func validate() throws(ZvonokError) {
            guard (1...99).contains(firstRegion), regions >= 1, firstRegion + regions - 1 <= 99 else {
                throw .invalidArgument("regions must fit in the codes 01 to 99")
            }
            guard municipalities >= 1, schools >= 1, classes >= 1, classes <= 11 * 27, students >= 0, teachers >= 0 else {
                throw .invalidArgument("at least one municipality, school and class; at most 297 classes a school")
            }
            guard (1...104).contains(weeks), messages >= 0 else { throw .invalidArgument("weeks must be 1 to 104 and messages not negative") }
        }
    }

    /// What was made.
    public struct Summary: Sendable {
        public var people: [(role: String, listed: Int, registered: Int)] = []
        public var schools = 0
        public var classes = 0
        public var chats = 0
        public var memberships = 0
        public var activityRows = 0
        public var messages = 0
        public var counted = 0
        public var firstDay = ""
        public var lastDay = ""
    }

    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func generate(_ options: Options) async throws -> Summary {
        try options.validate()
        let codes = (options.firstRegion..<(options.firstRegion + options.regions)).map { $0 < 10 ? "0\($0)" : "\($0)" }
        let summary = try await database.transaction { connection in
            let taken = try await connection.query("SELECT code FROM regions WHERE code = ANY (\(codes)) ORDER BY code", logger: database.logger)
            var existing: [String] = []
            for try await code in taken.decode(String.self) { existing.append(code) }
            guard existing.isEmpty else {
                throw ZvonokError.conflict("regions \(existing.joined(separator: ", ")) exist already; choose others with --first-region")
            }
            try await connection.query(
                """
                CREATE TEMP TABLE demo_params (seed bigint, first_region int, regions int, munis int, schools int, classes int,
                                               students int, teachers int, weeks int, messages bigint,
                                               today date, first_day date, last_day date, listed_day date) ON COMMIT DROP
                """,
                logger: database.logger
            )
            // Traffic runs from the Monday `weeks` weeks before this one (Moscow time) up to yesterday; listing
            // starts two weeks before the traffic.
            try await connection.query(
                """
                INSERT INTO demo_params
                SELECT \(options.seed), \(options.firstRegion), \(options.regions), \(options.municipalities), \(options.schools),
                       \(options.classes), \(options.students), \(options.teachers), \(options.weeks), \(options.messages),
                       t.today, monday - 7 * \(options.weeks)::int, t.today - 1, monday - 7 * \(options.weeks)::int - 14
                FROM (SELECT (now() AT TIME ZONE 'UTC' + interval '3 hours')::date AS today) t,
                     LATERAL (SELECT date_trunc('week', t.today)::date AS monday) m
                """,
                logger: database.logger
            )
            for step in Self.steps { try await connection.query(step, logger: database.logger) }
            let summary = try await Self.summarize(connection, logger: database.logger)
            try await connection.query("DROP FUNCTION pg_temp.u(text, bigint), pg_temp.msk(date, float8)", logger: database.logger)
            return summary
        }
        // Fresh statistics and visibility maps, so that the first queries are planned well and read indexes only.
        for table in [
            "people", "activity_daily", "chats", "chat_members", "schools", "classes", "class_teachers", "guardianships", "rating_chat_weeks",
            "rating_staff_weeks", "rating_people_weeks",
        ] {
            try await database.query(PostgresQuery(unsafeSQL: "VACUUM ANALYZE \(table)"))
        }
        return summary
    }

    static func summarize(_ connection: PostgresConnection, logger: Logger) async throws -> Summary {
        var summary = Summary()
        let people = try await connection.query(
            """
            SELECT p.role, count(*)::bigint, count(p.registered_at)::bigint
            FROM people p JOIN demo_regions r ON r.code = p.region_code
            GROUP BY p.role ORDER BY min(p.id)
            """,
            logger: logger
        )
        for try await (role, listed, registered) in people.decode((String, Int, Int).self) { summary.people.append((role, listed, registered)) }
        let totals = try await connection.query(
            """
            SELECT (SELECT count(*) FROM demo_schools)::bigint,
                   (SELECT count(*) FROM classes c JOIN demo_schools d ON d.id = c.school_id)::bigint,
                   (SELECT count(*) FROM chats c JOIN demo_regions r ON r.code = c.region_code)::bigint,
                   (SELECT count(*) FROM chat_members m JOIN chats c ON c.id = m.chat_id JOIN demo_regions r ON r.code = c.region_code)::bigint,
                   a.rows, a.messages, a.counted, p.first_day::text, p.last_day::text
            FROM demo_params p,
                 (SELECT count(*)::bigint AS rows, coalesce(sum(a.messages), 0)::bigint AS messages, coalesce(sum(a.counted), 0)::bigint AS counted
                  FROM activity_daily a JOIN demo_actors d ON d.person_id = a.person_id) a
            """,
            logger: logger
        )
        for try await row in totals.decode((Int, Int, Int, Int, Int, Int, Int, String, String).self) {
            (summary.schools, summary.classes, summary.chats, summary.memberships) = (row.0, row.1, row.2, row.3)
            (summary.activityRows, summary.messages, summary.counted, summary.firstDay, summary.lastDay) = (row.4, row.5, row.6, row.7, row.8)
        }
        return summary
    }

    /// The generation, step by step; each reads `demo_params` and the temporary tables the steps before it made.
    static let steps: [PostgresQuery] = [
        """
        CREATE FUNCTION pg_temp.u(key text, salt bigint) RETURNS float8 LANGUAGE sql IMMUTABLE AS
        $$ SELECT (hashtextextended(key, salt) & 2147483647)::float8 / 2147483648.0 $$
        """,
        """
        CREATE FUNCTION pg_temp.msk(d date, seconds float8) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS
        $$ SELECT (d::timestamp + make_interval(secs => seconds) - interval '3 hours') AT TIME ZONE 'UTC' $$
        """,
        """
        CREATE TEMP TABLE demo_regions ON COMMIT DROP AS
        SELECT lpad(r::text, 2, '0') AS code FROM demo_params, generate_series(first_region, first_region + regions - 1) r
        """,
        """
        INSERT INTO regions (code, name, created_at)
        SELECT r.code, coalesce(n.name, 'Регион ' || r.code), pg_temp.msk(listed_day, 0)
        FROM demo_params, demo_regions r
        LEFT JOIN (VALUES ('01', 'Республика Адыгея'), ('02', 'Республика Башкортостан'), ('03', 'Республика Бурятия'),
                          ('16', 'Республика Татарстан'), ('23', 'Краснодарский край'), ('50', 'Московская область'),
                          ('54', 'Новосибирская область'), ('55', 'Омская область'), ('66', 'Свердловская область'),
                          ('77', 'Москва'), ('78', 'Санкт-Петербург')) AS n (code, name) ON n.code = r.code
        ORDER BY r.code
        """,
        """
        INSERT INTO municipalities (region_code, name, external_id, created_at)
        SELECT r.code, 'Муниципальный округ №' || m, 'demo-m' || m, pg_temp.msk(listed_day, 0)
        FROM demo_params, demo_regions r, generate_series(1, munis) m ORDER BY r.code, m
        """,
        """
        INSERT INTO chats (kind, title, region_code, municipality_id, created_at)
        SELECT 'municipality', mu.name, mu.region_code, mu.id, mu.created_at
        FROM municipalities mu JOIN demo_regions r ON r.code = mu.region_code ORDER BY mu.id
        """,
        // A tenth of the schools are listed during the traffic weeks rather than before them.
        """
        INSERT INTO schools (region_code, municipality_id, name, external_id, created_at)
        SELECT mu.region_code, mu.id, 'МБОУ «СОШ №' || j || '», ' || mu.name, 'demo-s' || j,
               CASE WHEN pg_temp.u(mu.region_code || ':s' || j, seed + 1) < 0.1
                    THEN pg_temp.msk(first_day + floor(pg_temp.u(mu.region_code || ':s' || j, seed + 2) * 7 * weeks)::int, 36000)
                    ELSE pg_temp.msk(listed_day, 0) END
        FROM demo_params CROSS JOIN demo_regions r CROSS JOIN generate_series(1, schools) j
        JOIN municipalities mu ON mu.region_code = r.code AND mu.external_id = 'demo-m' || (1 + (j - 1) % munis)
        ORDER BY mu.region_code, j
        """,
        // A school's admin registers on its adoption day; 15% of schools have not adopted the platform.
        """
        CREATE TEMP TABLE demo_schools ON COMMIT DROP AS
        SELECT s.id, s.region_code || ':' || s.external_id AS key, s.created_at AS listed_at,
               CASE WHEN pg_temp.u(s.region_code || ':' || s.external_id, seed + 3) >= 0.15
                    THEN s.created_at + make_interval(secs => pg_temp.u(s.region_code || ':' || s.external_id, seed + 4) ^ 2 * 86400 * (7 * weeks + 14))
                    END AS adopted_at
        FROM schools s JOIN demo_regions r ON r.code = s.region_code, demo_params
        """,
        """
        INSERT INTO chats (kind, title, region_code, municipality_id, school_id, created_at)
        SELECT k.kind, CASE k.kind WHEN 'school' THEN s.name ELSE s.name || ' — педагоги' END, s.region_code, s.municipality_id, s.id, s.created_at
        FROM demo_schools d JOIN schools s ON s.id = d.id CROSS JOIN (VALUES ('school'), ('school_staff')) AS k (kind)
        ORDER BY s.id, k.kind
        """,
        """
        INSERT INTO classes (school_id, grade, letter, year, external_id, created_at)
        SELECT d.id, c % 11 + 1, substr('АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЭЮЯ', c / 11 + 1, 1),
               CASE WHEN extract(month FROM today) >= 9 THEN extract(year FROM today) || '/' || extract(year FROM today) + 1
                    ELSE extract(year FROM today) - 1 || '/' || extract(year FROM today) END,
               'k' || c, d.listed_at
        FROM demo_params, demo_schools d, generate_series(0, classes - 1) c ORDER BY d.id, c
        """,
        """
        INSERT INTO chats (kind, title, region_code, municipality_id, school_id, class_id, created_at)
        SELECT k.kind, zvonok_class_chat_title(k.kind, c.grade, c.letter), s.region_code, s.municipality_id, s.id, c.id, c.created_at
        FROM demo_schools d JOIN schools s ON s.id = d.id JOIN classes c ON c.school_id = s.id
        CROSS JOIN (VALUES ('class'), ('class_parents')) AS k (kind)
        ORDER BY c.id, k.kind
        """,
        """
        INSERT INTO people (role, name, external_id, region_code, listed_at, registered_at)
        SELECT 'regional_admin', 'Администратор региона ' || r.code, 'demo-ra', r.code, pg_temp.msk(listed_day, 0), pg_temp.msk(listed_day, 43200)
        FROM demo_params, demo_regions r ORDER BY r.code
        """,
        """
        INSERT INTO people (role, name, external_id, region_code, municipality_id, listed_at, registered_at)
        SELECT 'municipal_admin', 'Администратор: ' || mu.name, 'demo-ma', mu.region_code, mu.id, mu.created_at, mu.created_at + interval '1 day'
        FROM municipalities mu JOIN demo_regions r ON r.code = mu.region_code ORDER BY mu.id
        """,
        // Everyone of a school: its admin, teachers, students and one guardian per student, registering after the school adopts.
        """
        INSERT INTO people (role, name, external_id, region_code, municipality_id, school_id, class_id, listed_at, registered_at)
        SELECT x.role, x.name, x.external_id, s.region_code, s.municipality_id, s.id, x.class_id, d.listed_at,
               CASE WHEN x.registered_at < pg_temp.msk(p.today, 0) THEN x.registered_at END
        FROM demo_params p, demo_schools d JOIN schools s ON s.id = d.id
        CROSS JOIN LATERAL (
            SELECT 'school_admin' AS role, 'Завуч школы №' || s.external_id AS name, 'a1' AS external_id, NULL::bigint AS class_id,
                   d.adopted_at AS registered_at, 0 AS o1, 0 AS o2
            UNION ALL
            SELECT 'teacher', 'Учитель ' || i || ' (' || s.external_id || ')', 't' || i, NULL,
                   CASE WHEN pg_temp.u(d.key || ':t' || i, p.seed + 5) < 0.88
                        THEN d.adopted_at + make_interval(secs => pg_temp.u(d.key || ':t' || i, p.seed + 6) * 86400 * 21) END, 1, i
            FROM generate_series(1, p.teachers) i
            UNION ALL
            SELECT v.role, v.title || ' ' || c.grade || c.letter || '-' || n, v.prefix || c.external_id || '-' || n, CASE WHEN v.role = 'student' THEN c.id END,
                   CASE WHEN pg_temp.u(d.key || v.prefix || c.external_id || '-' || n, p.seed + 7) < v.share
                        THEN d.adopted_at + make_interval(secs => pg_temp.u(d.key || v.prefix || c.external_id || '-' || n, p.seed + 8) * 86400 * 42) END,
                   v.o1, c.id * 1000 + n
            FROM classes c CROSS JOIN generate_series(1, p.students) n
            CROSS JOIN (VALUES ('student', 'Ученик', 's', 0.65, 2), ('guardian', 'Родитель ученика', 'g', 0.55, 3)) AS v (role, title, prefix, share, o1)
            WHERE c.school_id = s.id
        ) x
        ORDER BY s.id, x.o1, x.o2
        """,
        // Two in a hundred registered teachers have since left their school.
        """
        UPDATE people p SET removed_at = p.registered_at + make_interval(secs => pg_temp.u(d.key || ':' || p.external_id, dp.seed + 9) * 86400 * 28)
        FROM demo_schools d, demo_params dp
        WHERE p.school_id = d.id AND p.role = 'teacher' AND p.registered_at IS NOT NULL
          AND pg_temp.u(d.key || ':' || p.external_id, dp.seed + 10) < 0.02
          AND p.registered_at + make_interval(secs => pg_temp.u(d.key || ':' || p.external_id, dp.seed + 9) * 86400 * 28) < pg_temp.msk(dp.today, 0)
        """,
        // Teacher i is the homeroom teacher of class i (when there is one) and teaches two more.
        """
        INSERT INTO class_teachers (class_id, person_id, homeroom)
        SELECT c.id, t.id, a.homeroom
        FROM demo_params p, demo_schools d
        JOIN people t ON t.school_id = d.id AND t.role = 'teacher'
        CROSS JOIN LATERAL (VALUES (substr(t.external_id, 2)::int - 1, true), ((substr(t.external_id, 2)::int * 7 + 3) % p.classes, false),
                                   ((substr(t.external_id, 2)::int * 11 + 5) % p.classes, false)) AS a (ordinal, homeroom)
        JOIN classes c ON c.school_id = d.id AND c.external_id = 'k' || a.ordinal
        ORDER BY c.id, t.id, a.homeroom DESC
        ON CONFLICT DO NOTHING
        """,
        """
        INSERT INTO guardianships (guardian_id, student_id)
        SELECT g.id, s.id FROM demo_schools d
        JOIN people g ON g.school_id = d.id AND g.role = 'guardian'
        JOIN people s ON s.school_id = d.id AND s.external_id = 's' || substr(g.external_id, 2)
        ORDER BY g.id
        """,
        """
        ANALYZE
        """,
        // Memberships as the structure defines them (sql/004's zvonok_desired_*_members), written for all schools at once.
        """
        INSERT INTO chat_members (chat_id, person_id, joined_at)
        SELECT x.chat_id, x.person_id, now() FROM (
            SELECT c.id AS chat_id, p.id AS person_id
            FROM demo_schools d JOIN chats c ON c.school_id = d.id AND c.class_id IS NULL AND c.kind IN ('school', 'school_staff')
            JOIN people p ON p.school_id = d.id AND p.removed_at IS NULL
                AND (p.role IN ('school_admin', 'teacher') OR (c.kind = 'school' AND p.role IN ('student', 'guardian')))
            UNION ALL
            SELECT c.id, ct.person_id
            FROM demo_schools d JOIN chats c ON c.school_id = d.id AND c.kind IN ('class', 'class_parents')
            JOIN class_teachers ct ON ct.class_id = c.class_id JOIN people t ON t.id = ct.person_id AND t.removed_at IS NULL
            UNION ALL
            SELECT c.id, s.id
            FROM demo_schools d JOIN chats c ON c.school_id = d.id AND c.kind = 'class'
            JOIN people s ON s.class_id = c.class_id AND s.removed_at IS NULL
            UNION ALL
            SELECT c.id, g.guardian_id
            FROM demo_schools d JOIN chats c ON c.school_id = d.id AND c.kind = 'class_parents'
            JOIN people s ON s.class_id = c.class_id AND s.removed_at IS NULL
            JOIN guardianships g ON g.student_id = s.id JOIN people gp ON gp.id = g.guardian_id AND gp.removed_at IS NULL
            UNION ALL
            SELECT c.id, p.id
            FROM municipalities mu JOIN demo_regions r ON r.code = mu.region_code
            JOIN chats c ON c.municipality_id = mu.id AND c.kind = 'municipality'
            JOIN people p ON p.municipality_id = mu.id AND p.role IN ('municipal_admin', 'school_admin') AND p.removed_at IS NULL
        ) x
        ORDER BY x.chat_id, x.person_id
        ON CONFLICT DO NOTHING
        """,
        // Who sends, from which day, into which chats, how much, and each group's share of the messages.
        """
        CREATE TEMP TABLE demo_actors ON COMMIT DROP AS
        SELECT p.id AS person_id, d.key || ':' || p.external_id AS key, p.role,
               greatest(dp.first_day, (p.registered_at AT TIME ZONE 'UTC' + interval '3 hours')::date) AS from_day,
               least(dp.last_day, coalesce((p.removed_at AT TIME ZONE 'UTC' + interval '3 hours')::date - 1, dp.last_day)) AS to_day,
               CASE p.role
                   WHEN 'teacher' THEN (SELECT c.id FROM class_teachers ct JOIN chats c ON c.class_id = ct.class_id AND c.kind = 'class'
                                        WHERE ct.person_id = p.id ORDER BY ct.homeroom DESC, c.id LIMIT 1)
                   WHEN 'student' THEN (SELECT c.id FROM chats c WHERE c.class_id = p.class_id AND c.kind = 'class')
                   WHEN 'guardian' THEN (SELECT c.id FROM guardianships g JOIN people s ON s.id = g.student_id
                                         JOIN chats c ON c.class_id = s.class_id AND c.kind = 'class_parents' WHERE g.guardian_id = p.id LIMIT 1)
                   ELSE (SELECT c.id FROM chats c WHERE c.school_id = p.school_id AND c.class_id IS NULL AND c.kind = 'school')
               END AS chat_a,
               CASE p.role
                   WHEN 'teacher' THEN (SELECT c.id FROM class_teachers ct JOIN chats c ON c.class_id = ct.class_id AND c.kind = 'class_parents'
                                        WHERE ct.person_id = p.id ORDER BY ct.homeroom DESC, c.id LIMIT 1)
                   ELSE NULL
               END AS chat_b,
               (SELECT c.id FROM chats c WHERE c.school_id = p.school_id AND c.class_id IS NULL AND c.kind = 'school_staff') AS chat_c,
               CASE WHEN p.role = 'teacher' AND pg_temp.u(d.key || ':' || p.external_id, dp.seed + 17) < 0.3 THEN 0.05
                    ELSE 0.2 + 1.6 * pg_temp.u(d.key || ':' || p.external_id, dp.seed + 11) END AS level
        FROM demo_params dp, demo_schools d JOIN people p ON p.school_id = d.id
        WHERE p.registered_at IS NOT NULL
        """,
        """
        DELETE FROM demo_actors WHERE from_day > to_day OR chat_a IS NULL
        """,
        """
        CREATE TEMP TABLE demo_groups ON COMMIT DROP AS
        SELECT a.role, g.share * dp.messages / g.per_row AS rows_wanted, g.per_row, sum((a.to_day - a.from_day + 1) * a.level)::float8 AS weighted_days
        FROM demo_actors a, demo_params dp,
             (VALUES ('teacher', 0.45, 2.5), ('school_admin', 0.05, 2.5), ('student', 0.30, 1.5), ('guardian', 0.20, 1.5)) AS g (role, share, per_row)
        WHERE g.role = a.role
        GROUP BY a.role, g.share, g.per_row, dp.messages
        """,
        // Each actor sends on a number of days in proportion to their time on the platform and their own level of activity;
        // a tenth of the sends are emoji only, and a tenth more rows hold one such message beside real ones.
        """
        INSERT INTO activity_daily (day, chat_id, person_id, messages, counted)
        SELECT x.day, x.chat_id, x.person_id, sum(x.messages), sum(greatest(x.messages - x.uncounted, 0))
        FROM (
            SELECT a.from_day + floor(pg_temp.u(a.key || ':d' || k, dp.seed + 12) * (a.to_day - a.from_day + 1))::int AS day,
                   CASE WHEN a.role NOT IN ('teacher', 'school_admin') THEN a.chat_a
                        WHEN pg_temp.u(a.key || ':c' || k, dp.seed + 13) < 0.55 THEN a.chat_a
                        WHEN pg_temp.u(a.key || ':c' || k, dp.seed + 13) < 0.85 THEN coalesce(a.chat_b, a.chat_c)
                        ELSE a.chat_c END AS chat_id,
                   a.person_id,
                   1 + floor(pg_temp.u(a.key || ':m' || k, dp.seed + 14) * (2 * g.per_row - 1))::int AS messages,
                   CASE WHEN pg_temp.u(a.key || ':e' || k, dp.seed + 15) < 0.1 THEN 1000
                        WHEN pg_temp.u(a.key || ':e' || k, dp.seed + 15) < 0.2 THEN 1 ELSE 0 END AS uncounted
            FROM demo_params dp, demo_actors a JOIN demo_groups g ON g.role = a.role
            CROSS JOIN LATERAL generate_series(1, floor(g.rows_wanted * (a.to_day - a.from_day + 1) * a.level / g.weighted_days
                                                        + pg_temp.u(a.key, dp.seed + 16))::int) k
        ) x
        GROUP BY x.day, x.chat_id, x.person_id
        ORDER BY x.day, x.chat_id, x.person_id
        """,
    ]
}
