import Foundation
public import Logging
import Metrics
public import PostgresNIO

/// The PostgreSQL connection pool that Zvonok's stores share. Run `client` as a service (it is one).
public struct Database: Sendable {
    public let client: PostgresClient
    public let logger: Logger
    /// How often an operation waiting for a pooled connection checks that the server still accepts connections;
    /// when it does not, the operation fails with `unavailable` (see `withLeasedConnection`).
    public let leaseTimeout: Duration
    /// Where the server listens, for that check.
    let endpoint: (host: String?, port: Int?, socketPath: String?)
    private let queryTimer = Timer(label: "zvonok_db_query_duration_seconds")

    public init(url: DatabaseURL, logger: Logger, maximumConnections: Int = 40, leaseTimeout: Duration = .seconds(5)) {
        var configuration = url.configuration
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = min(2, maximumConnections)
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.endpoint = (configuration.host, configuration.port, configuration.unixSocketPath)
        self.logger = logger
        self.leaseTimeout = leaseTimeout
    }

    /// Runs the connection pool until the calling task is cancelled; queries progress only while it runs.
    public func run() async {
        await client.run()
    }

    /// Times `body` into the database latency histogram of `/metrics`.
    @discardableResult
    public func timed<Result: Sendable>(_ body: () async throws -> Result) async rethrows -> Result {
        let start = ContinuousClock.now
        defer { queryTimer.recordNanoseconds((ContinuousClock.now - start).nanoseconds) }
        return try await body()
    }

    /// A round trip to the server; throws when it cannot be reached.
    public func ping() async throws {
        try await timed { _ = try await client.query("SELECT 1", logger: logger) }
    }

    /// Applies the migrations in `sql/` (or the given folder) and makes sure history partitions exist ahead.
    public func migrate(sqlDirectory: String = Migration.defaultDirectory()) async throws {
        let migrations = try Migration.load(from: sqlDirectory)
        let applied = try await Migrator(client: client, logger: logger).migrate(migrations)
        logger.info("Database schema is current", metadata: ["appliedNow": "\(applied)", "latest": "\(migrations.last?.version ?? 0)"])
        try await ensureMessagePartitions()
    }

    /// Creates the monthly history partitions from last month to three months ahead; idempotent.
    public func ensureMessagePartitions() async throws {
        try await timed {
            _ = try await client.query("SELECT zvonok_ensure_message_partitions((now() AT TIME ZONE 'UTC')::date - 31, 5)", logger: logger)
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
