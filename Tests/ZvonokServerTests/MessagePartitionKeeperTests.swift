import Foundation
import PostgresNIO
import Synchronization
import Testing
import ZvonokServer
import ZvonokStorage
import ZvonokTestSupport

/// Issue 15: monthly history partitions were made only by `migrate`; the server now keeps them ahead itself.
@Suite struct MessagePartitionKeeperTests {
    @Test func partitionsAreKeptAheadAsTheClockJumpsMonths() async throws {
        try await withTestDatabaseURL { url in
            try await withRunningDatabase(url) { database in
                // A clock that jumps a month at each reading, from January 2032.
                let readings = Mutex(0)
                let today: @Sendable () -> Date = {
                    let month = readings.withLock { count in
                        defer { count += 1 }
                        return count
                    }
                    return ISO8601DateFormatter().date(from: String(format: "2032-%02d-15T00:00:00Z", month % 12 + 1))!
                }
                let keeper = MessagePartitionKeeper(database: database, interval: .milliseconds(20), today: today, logger: testLogger)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await keeper.run() }
                    defer { group.cancelAll() }
                    let deadline = ContinuousClock.now + .seconds(20)
                    while try await Self.partitions(of: 2032, database) < 12, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                }
                // Each reading makes its month and three ahead: by the September reading, all of 2032.
                #expect(try await Self.partitions(of: 2032, database) == 12)
            }
        }
    }

    static func partitions(of year: Int, _ database: Database) async throws -> Int {
        try await database.query(
            "SELECT count(*)::int FROM pg_inherits WHERE inhparent = 'messages'::regclass AND inhrelid::regclass::text LIKE \("messages_\(year)_%")"
        ).decode(Int.self).first { _ in true } ?? -1
    }
}
