import PostgresNIO
import Testing
import ZvonokCore
import ZvonokStorage
import ZvonokTestSupport

/// Statement timeouts (issue 15): every pooled connection carries one, a statement over it answers `unavailable`,
/// and one-off commands that run for minutes go without.
@Suite struct DatabaseTimeoutsTests {
    @Test func pooledConnectionsCarryTheStatementTimeoutUnlessUnlimited() async throws {
        try await withTestDatabaseURL { url in
            for (timeouts, expected) in [(Database.Timeouts(), "30s"), (.init(statement: .seconds(2)), "2s"), (.unlimitedStatements, "0")] {
                let shown = try await Self.withDatabase(url, timeouts) { database in
                    try await database.query("SHOW statement_timeout").decode(String.self).first { _ in true }
                }
                #expect(shown == expected)
            }
        }
    }

    @Test func aStatementOverTheTimeoutIsCancelledAndAnsweredUnavailable() async throws {
        try await withTestDatabaseURL { url in
            try await Self.withDatabase(url, .init(lease: .seconds(1), statement: .seconds(1))) { database in
                let start = ContinuousClock.now
                // The cancellation arrives with the rows, after the query has answered with their description.
                let error = await #expect(throws: PSQLError.self) {
                    for try await _ in try await database.query("SELECT pg_sleep(30)") {}
                }
                #expect(error.flatMap(DatabaseErrorText.contractError) == .unavailable())
                #expect(ContinuousClock.now - start < .seconds(5))
                // The connection serves the next statement.
                let next = try await database.query("SELECT 1").decode(Int.self).first { _ in true }
                #expect(next == 1)
            }
        }
    }

    private static func withDatabase<Result: Sendable>(
        _ url: DatabaseURL, _ timeouts: Database.Timeouts, _ body: (Database) async throws -> Result
    ) async throws -> Result {
        let database = Database(url: url, logger: TestCluster.shared.logger, maximumConnections: 1, timeouts: timeouts)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
            defer { group.cancelAll() }
            return try await body(database)
        }
    }
}
