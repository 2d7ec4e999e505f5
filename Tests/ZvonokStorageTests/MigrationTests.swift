import Foundation
import PostgresNIO
import Testing
import ZvonokStorage
import ZvonokTestSupport

@Suite struct MigrationTests {
    @Test func freshDatabaseGetsEveryMigrationOnceAndRepeatIsANoOp() async throws {
        try await withTestDatabase(empty: true) { database in
            let migrations = try Migration.load(from: Migration.defaultDirectory())
            #expect(migrations.map(\.version) == Array(1...migrations.count))
            let migrator = Migrator(client: database.client, logger: database.logger)
            #expect(try await migrator.migrate(migrations) == migrations.map(\.version))
            #expect(try await migrator.migrate(migrations) == [])
            let tables = try await database.client.query(
                "SELECT count(*)::int FROM pg_tables WHERE tablename IN ('regions', 'people', 'chats', 'messages', 'activity_daily')"
            ).collectOne(Int.self)
            #expect(tables == 5)
        }
    }

    @Test func historyIsPartitionedByMonthAhead() async throws {
        try await withTestDatabase { database in
            try await database.ensureMessagePartitions()
            let partitions = try await database.client.query(
                "SELECT count(*)::int FROM pg_inherits WHERE inhparent = 'messages'::regclass"
            ).collectOne(Int.self)
            // Last month to three months ahead, and the default partition.
            #expect(partitions >= 6)
        }
    }

    /// Issue 15: messages of a month with no partition land in the default one, and creating that month's partition
    /// then failed — and with it the next start. Its rows are moved into the new partition now.
    @Test func aMonthWhoseMessagesLandedInTheDefaultPartitionIsCreatedAroundThem() async throws {
        try await withTestDatabase { database in
            try await database.client.query(
                """
                INSERT INTO messages (chat_id, seq, sent_at, sender_id, cid, text, counted)
                VALUES (1, 1, '2031-05-10 12:00:00+00', 1, 'a', 'привет', true), (1, 2, '2031-06-01 00:00:00+00', 1, 'b', 'пока', true)
                """
            )
            let day = try #require(ISO8601DateFormatter().date(from: "2031-05-15T00:00:00Z"))
            try await database.ensureMessagePartitions(around: day)
            try await database.ensureMessagePartitions(around: day)
            var homes: [String] = []
            for try await home in try await database.client.query("SELECT tableoid::regclass::text FROM messages ORDER BY seq").decode(String.self) {
                homes.append(home)
            }
            #expect(homes == ["messages_2031_05", "messages_2031_06"])
            let left = try await database.client.query("SELECT count(*)::int FROM messages_default").collectOne(Int.self)
            #expect(left == 0)
            let months = try await database.client.query(
                "SELECT count(*)::int FROM pg_inherits WHERE inhparent = 'messages'::regclass AND inhrelid::regclass::text LIKE 'messages_2031_%'"
            ).collectOne(Int.self)
            #expect(months == 5, "April to August")
        }
    }

    @Test func changedMigrationIsRefused() async throws {
        try await withTestDatabase(empty: true) { database in
            let migrator = Migrator(client: database.client, logger: database.logger)
            let original = [Migration(version: 1, name: "001_t.sql", sql: "CREATE TABLE t (id int)")]
            try await migrator.migrate(original)
            let edited = [Migration(version: 1, name: "001_t.sql", sql: "CREATE TABLE t (id bigint)")]
            let error = await #expect(throws: MigrationError.self) { try await migrator.migrate(edited) }
            #expect(error?.description.contains("001_t.sql was changed after it was applied") == true)
        }
    }

    @Test func failingMigrationRollsBackAndIsNotRecorded() async throws {
        try await withTestDatabase(empty: true) { database in
            let migrator = Migrator(client: database.client, logger: database.logger)
            let broken = [
                Migration(version: 1, name: "001_ok.sql", sql: "CREATE TABLE ok (id int)"),
                Migration(version: 2, name: "002_bad.sql", sql: "CREATE TABLE half (id int); SELECT no_such_column FROM ok"),
            ]
            let error = await #expect(throws: MigrationError.self) { try await migrator.migrate(broken) }
            #expect(error?.description.contains("no_such_column") == true)
            let recorded = try await database.client.query("SELECT count(*)::int FROM schema_migrations").collectOne(Int.self)
            #expect(recorded == 1)
            let half = try await database.client.query("SELECT count(*)::int FROM pg_tables WHERE tablename = 'half'").collectOne(Int.self)
            #expect(half == 0)
        }
    }

    @Test func folderWithDuplicateVersionsIsRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("zvonok-mig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "SELECT 1".write(to: folder.appendingPathComponent("001_a.sql"), atomically: true, encoding: .utf8)
        try "SELECT 2".write(to: folder.appendingPathComponent("001_b.sql"), atomically: true, encoding: .utf8)
        #expect(throws: MigrationError.self) { try Migration.load(from: folder.path) }
    }
}

extension PostgresRowSequence {
    /// The single value of a one-row, one-column result.
    func collectOne<Value: PostgresDecodable & Sendable>(_ type: Value.Type) async throws -> Value {
        var iterator = decode(Value.self).makeAsyncIterator()
        guard let value = try await iterator.next() else { throw PostgresRowSequenceEmpty() }
        return value
    }
}

struct PostgresRowSequenceEmpty: Error {}
