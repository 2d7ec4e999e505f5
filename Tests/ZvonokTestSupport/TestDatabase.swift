public import ZvonokStorage

/// Runs `body` with the URL of a fresh, migrated database of its own, dropped afterwards even when `body` throws.
/// With `empty`, the database has not been migrated either.
public func withTestDatabaseURL<Result: Sendable>(
    empty: Bool = false,
    _ body: (DatabaseURL) async throws -> Result
) async throws -> Result {
    try await TestSlots.run {
        let (url, name) = try await empty ? TestCluster.shared.makeEmptyDatabase() : TestCluster.shared.makeDatabase()
        do {
            let result = try await body(url)
            try await TestCluster.shared.dropDatabase(name)
            return result
        } catch {
            try? await TestCluster.shared.dropDatabase(name)
            throw error
        }
    }
}

/// Runs `body` with a running `Database` on a fresh database of its own, migrated unless `empty`.
public func withTestDatabase<Result: Sendable>(
    empty: Bool = false,
    _ body: (Database) async throws -> Result
) async throws -> Result {
    try await withTestDatabaseURL(empty: empty) { url in
        let database = Database(url: url, logger: TestCluster.shared.logger, maximumConnections: 8)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
            defer { group.cancelAll() }
            return try await body(database)
        }
    }
}
