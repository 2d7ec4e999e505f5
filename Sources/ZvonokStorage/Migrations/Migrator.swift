import Logging
public import PostgresNIO

/// Applies the numbered SQL migrations in order, each inside its own transaction, and records them in
/// `schema_migrations`. Several nodes starting at once take turns through an advisory lock.
public struct Migrator: Sendable {
    /// Advisory lock key that serializes migration runs across nodes ("zvonok" in ASCII).
    static let lockKey: Int64 = 0x7a_766f_6e6f_6b

    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Applies what is not applied yet; returns the versions applied by this call.
    /// Refuses to run when an applied migration's file has changed since.
    @discardableResult
    public func migrate(_ migrations: [Migration]) async throws -> [Int] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
            do {
                let applied = try await apply(migrations, on: connection)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                throw error
            }
        }
    }

    private func apply(_ migrations: [Migration], on connection: PostgresConnection) async throws -> [Int] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())
            """,
            logger: logger
        )
        var recorded: [Int: String] = [:]
        for try await (version, checksum) in try await connection.query(
            "SELECT version, checksum FROM schema_migrations",
            logger: logger
        ).decode((Int, String).self) {
            recorded[version] = checksum
        }
        for migration in migrations {
            if let checksum = recorded[migration.version], checksum != migration.checksum {
                throw MigrationError(
                    description: """
                        Migration \(migration.name) was changed after it was applied (checksum \(checksum.prefix(12))… in the \
                        database, \(migration.checksum.prefix(12))… on disk). Applied migrations are never edited: \
                        restore the file and put the change in a new numbered migration.
                        """
                )
            }
        }
        var appliedNow: [Int] = []
        for migration in migrations where recorded[migration.version] == nil {
            logger.info("Applying migration", metadata: ["migration": "\(migration.name)"])
            do {
                try await connection.withTransaction(logger: logger) { transaction in
                    // A migration may rewrite a large table: the statement timeout is for serving, not for this.
                    try await transaction.query("SET LOCAL statement_timeout = 0", logger: logger)
                    for statement in SQLScript.statements(in: migration.sql) {
                        try await transaction.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await transaction.query(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(migration.checksum))",
                        logger: logger
                    )
                }
            } catch let error as PostgresTransactionError {
                let cause = (error.closureError ?? error.commitError).map(DatabaseErrorText.describe) ?? "\(error)"
                throw MigrationError(description: "Migration \(migration.name) failed and was rolled back: \(cause)")
            }
            appliedNow.append(migration.version)
        }
        return appliedNow
    }
}
