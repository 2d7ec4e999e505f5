import Foundation
import PostgresNIO
import Synchronization
import Testing
import ZvonokServer
import ZvonokStorage
import ZvonokTestSupport

/// The retention job inside the server (issue 20), driven by an injected clock set to 10 February 2032: history
/// before 1 September 2030 (the current and previous school years are kept) goes a monthly partition at a time with
/// its files, deleted texts after the moderation window, audit after its period, removed people after the grace
/// period, archived chats' members after their reading time.
@Suite struct RetentionKeeperTests {
    /// Noon (UTC) of a day.
    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text + "T12:00:00Z")! }

    /// Midnight (UTC) at the start of a day.
    static func day(_ text: String) -> Date { ISO8601DateFormatter().date(from: text + "T00:00:00Z")! }

    static let now = date("2032-02-10")

    @Test func aSweepDropsWhatIsPastItsPeriod() async throws {
        try await withTestDatabaseURL { url in
            try await withRunningDatabase(url) { database in
                try await database.ensureMessagePartitions(around: Self.date("2030-01-15"), monthsAhead: 0)
                try await database.ensureMessagePartitions(around: Self.date("2031-10-15"), monthsAhead: 0)
                try await Self.seed(database)
                let months = Mutex<[DateInterval]>([])
                let keeper = RetentionKeeper(
                    database: database, policy: RetentionPolicy(), interval: .milliseconds(20), now: { Self.now },
                    dropFiles: { month in months.withLock { $0.append(month) } }, logger: testLogger)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await keeper.run() }
                    defer { group.cancelAll() }
                    let deadline = ContinuousClock.now + .seconds(20)
                    // Members of the archived chat go last in a sweep.
                    while try await Self.count("SELECT count(*)::int FROM chat_members", database) > 0,
                        ContinuousClock.now < deadline
                    {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                }
                try await Self.checkSwept(database, files: months.withLock { $0 })
                let again = try await RetentionStore(database: database).sweep(at: Self.now, policy: RetentionPolicy()) { _ in }
                #expect(again == RetentionStore.Report(), "a second sweep finds nothing left to do")
            }
        }
    }

    /// Messages in January 2030 (gone) and October 2031 (kept; one deleted in December, one a week ago), two in months
    /// without a partition (May 2029 gone, March 2031 kept, both in the default partition), audit entries
    /// of 2028 and 2031, people removed in December 2031 and on 1 February 2032, and a chat archived until 1 January.
    static func seed(_ database: Database) async throws {
        let statements: [PostgresQuery] = [
            """
            INSERT INTO messages (chat_id, seq, sent_at, sender_id, cid, text, counted, deleted_at) VALUES
                (1, 1, \(date("2030-01-10")), 1, 'a', 'old', true, NULL),
                (1, 2, \(date("2031-10-10")), 1, 'b', 'kept', true, NULL),
                (1, 3, \(date("2031-10-11")), 1, 'c', 'deleted long ago', true, \(date("2031-12-01"))),
                (1, 4, \(date("2031-10-12")), 1, 'd', 'deleted lately', true, \(date("2032-02-03"))),
                (1, 5, \(date("2029-05-10")), 1, 'e', 'old, in the default partition', true, NULL),
                (1, 6, \(date("2031-03-10")), 1, 'f', 'kept in the default partition', true, NULL)
            """,
            "INSERT INTO message_receipts (sender_id, cid, chat_id, seq, sent_at) VALUES (1, 'a', 1, 1, \(date("2030-01-10")))",
            "INSERT INTO audit_log (at, action, object) VALUES (\(date("2028-01-01")), 'old', 'x'), (\(date("2031-06-01")), 'recent', 'x')",
            """
            INSERT INTO people (role, name, removed_at) VALUES
                ('ministry', 'Давно ушёл', \(date("2031-12-01"))), ('ministry', 'Недавно ушёл', \(date("2032-02-01")))
            """,
            "INSERT INTO chats (kind, title, archived_at, readable_until) VALUES ('school', '11А', \(date("2031-06-01")), \(date("2032-01-01")))",
            "INSERT INTO chat_members (chat_id, person_id) SELECT c.id, p.id FROM chats c, people p",
        ]
        for statement in statements { try await database.query(statement) }
    }

    static func checkSwept(_ database: Database, files: [DateInterval]) async throws {
        #expect(files.contains(DateInterval(start: day("2030-01-01"), end: day("2030-02-01"))))
        #expect(!files.contains { $0.end > day("2030-09-01") }, "nothing of the kept school years")
        #expect(try await count("SELECT count(*)::int FROM pg_class WHERE relname = 'messages_2030_01'", database) == 0)
        #expect(try await count("SELECT count(*)::int FROM pg_class WHERE relname = 'messages_2031_10'", database) == 1)
        #expect(try await count("SELECT count(*)::int FROM message_receipts", database) == 0)
        let texts = try await database.query("SELECT text FROM messages ORDER BY seq").decode(String.self)
        var kept: [String] = []
        for try await text in texts { kept.append(text) }
        #expect(kept == ["kept", "", "deleted lately", "kept in the default partition"])
        #expect(files.contains(DateInterval(start: date("2029-05-10"), end: day("2030-09-01"))), "the default partition's old rows' files")
        #expect(try await count("SELECT count(*)::int FROM audit_log WHERE action = 'old'", database) == 0)
        #expect(try await count("SELECT count(*)::int FROM audit_log WHERE action = 'recent'", database) == 1)
        let erased = try await database.query("SELECT name FROM people WHERE erased_at IS NOT NULL").decode(String.self)
        for try await name in erased { #expect(name == ErasureStore.placeholderName) }
        #expect(try await count("SELECT count(*)::int FROM people WHERE erased_at IS NULL AND removed_at IS NOT NULL", database) == 1)
        #expect(try await count("SELECT count(*)::int FROM chat_members", database) == 0)
    }

    static func count(_ query: PostgresQuery, _ database: Database) async throws -> Int {
        try await database.query(query).decode(Int.self).first { _ in true } ?? -1
    }
}
