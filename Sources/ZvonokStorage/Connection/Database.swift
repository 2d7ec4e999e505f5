import Foundation
public import Logging
import Metrics
public import PostgresNIO
public import ServiceLifecycle
import ZvonokCore

/// The PostgreSQL connection pool that Zvonok's stores share, on the primary when the URL names several hosts
/// (`PrimaryPool`). Run it as a service.
public struct Database: Sendable, Service {
    /// How long Zvonok waits on the database before it answers `unavailable` instead.
    public struct Timeouts: Sendable {
        /// The longest wait for a pooled connection (see `withLeasedConnection`).
        public var lease: Duration = .seconds(5)
        /// The longest a statement may run: PostgreSQL cancels it after this (`statement_timeout`, set for every
        /// pooled connection), and a server that does not even answer that (frozen) has its connection closed by
        /// Zvonok once `lease` more has passed. Zero: no limit on either side.
        public var statement: Duration = .seconds(30)

        public init(lease: Duration = .seconds(5), statement: Duration = .seconds(30)) {
            self.lease = lease
            self.statement = statement
        }

        /// No statement timeout and no bound on an operation, for one-off commands that may run for minutes
        /// (`zvonok demo-data`); waiting for a lease is still bounded.
        public static var unlimitedStatements: Timeouts { Timeouts(statement: .zero) }

        /// How long one operation (a query, a transaction) may wait for the server's answers before Zvonok closes its
        /// connection: the statement timeout plus `lease` for the server to report it; nil without a statement timeout.
        var operation: Duration? { statement > .zero ? statement + lease : nil }
    }

    let pools: PrimaryPool
    public let logger: Logger
    public let timeouts: Timeouts
    /// Keeps the bounds of `timeouts` for every operation at once, without a timer per operation.
    let deadlines = Deadlines()
    private let queryTimer = Timer(label: "zvonok_db_query_duration_seconds")

    public init(url: DatabaseURL, logger: Logger, maximumConnections: Int = 40, timeouts: Timeouts = Timeouts()) {
        var configuration = url.configuration
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = min(2, maximumConnections)
        if timeouts.statement > .zero {
            configuration.options.additionalStartupParameters.append(("statement_timeout", "\(timeouts.statement.milliseconds)"))
        }
        let options = configuration.options
        self.pools = PrimaryPool(url: url, logger: logger) { endpoint in
            var configuration = url.configuration(for: endpoint)
            configuration.options = options
            return PostgresClient(configuration: configuration, backgroundLogger: logger)
        }
        self.logger = logger
        self.timeouts = timeouts
    }

    /// The pool in use now (the primary's, with several hosts); operations wait for the first primary through
    /// `Database`'s own methods, which is why those are to be preferred.
    public var client: PostgresClient { pools.client }

    /// The host served now (nil while the first primary is looked for), as `host:port`.
    public var primary: String? { pools.status.primary?.description }

    /// How many times the primary changed since start.
    public var failovers: Int { pools.status.failovers }

    /// Runs the connection pool until the calling task is cancelled (or the service group shuts down), following the
    /// primary with several hosts; queries progress only while it runs.
    public func run() async {
        await pools.run()
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
        try await timed { _ = try await pools.current().query("SELECT 1", logger: logger) }
    }

    /// Applies the migrations in `sql/` (or the given folder) and makes sure history partitions exist ahead.
    public func migrate(sqlDirectory: String = Migration.defaultDirectory()) async throws {
        let migrations = try Migration.load(from: sqlDirectory)
        let applied = try await Migrator(client: pools.current(), logger: logger).migrate(migrations)
        logger.info("Database schema is current", metadata: ["appliedNow": "\(applied)", "latest": "\(migrations.last?.version ?? 0)"])
        try await ensureMessagePartitions()
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    var milliseconds: Int64 { nanoseconds / 1_000_000 }
}
