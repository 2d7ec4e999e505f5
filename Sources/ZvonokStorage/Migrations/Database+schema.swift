import PostgresNIO
public import ServiceLifecycle

extension Database {
    /// Returns once the database holds every migration of `sql/` — at once on a migrated database; on a fresh one,
    /// when this node's start (or another node's, or `zvonok migrate`) has applied them. Background work waits for it,
    /// so that its first step does not meet tables that are not made yet. Returns early when cancelled or shut down,
    /// and without waiting when the folder cannot be read (the migration itself then says why).
    public func awaitCurrentSchema(sqlDirectory: String = Migration.defaultDirectory(), poll: Duration = .milliseconds(100)) async {
        guard let latest = try? Migration.load(from: sqlDirectory).last?.version else { return }
        var told = false
        while !Task.isCancelled, !Task.isShuttingDownGracefully, await appliedVersion() < latest {
            if !told {
                logger.info("Background work waits for the database schema", metadata: ["version": "\(latest)"])
                told = true
            }
            try? await Task.sleep(for: poll)
        }
    }

    /// The newest migration applied, 0 before the first (or while the database cannot be asked).
    private func appliedVersion() async -> Int {
        do {
            let table = try await query("SELECT to_regclass('schema_migrations') IS NOT NULL")
            guard try await table.decode(Bool.self).first(where: { _ in true }) == true else { return 0 }
            let rows = try await query("SELECT coalesce(max(version), 0) FROM schema_migrations")
            return try await rows.decode(Int.self).first { _ in true } ?? 0
        } catch {
            return 0
        }
    }
}

/// Runs a background service once the database schema is current (`Database.awaitCurrentSchema`).
public struct AfterMigrations: Service {
    let base: any Service
    let database: Database

    public init(_ base: any Service, database: Database) {
        self.base = base
        self.database = database
    }

    /// The service runs even when cancelled while waiting: its own loop then ends at once, releasing what it holds.
    public func run() async throws {
        await database.awaitCurrentSchema()
        try await base.run()
    }
}
