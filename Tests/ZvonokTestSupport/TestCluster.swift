import Foundation
import Logging
public import PostgresNIO
public import ZvonokStorage

#if canImport(Glibc)
import Glibc
#endif

/// One throwaway PostgreSQL cluster per test process, made by the same code as the embedded default.
///
/// Each test gets a database of its own, cloned from a migrated template and dropped afterwards, so tests run in
/// parallel without seeing each other. A watchdog process stops the cluster and deletes its folder once the test
/// process is gone, however it ended; clusters left by a test run that was killed are swept on the next start.
public actor TestCluster {
    public static let shared = TestCluster()

    static let folderPrefix = "zvonok-test-"
    static let template = "zvonok_template"

    /// Started once, by whichever test asks first; the others wait for the same start.
    private var startup: Task<(client: PostgresClient, url: String), any Error>?
    private var counter = 0
    public nonisolated let logger: Logger = {
        var logger = Logger(label: "zvonok.tests")
        logger.logLevel = .warning
        return logger
    }()

    /// A URL for a new, empty-but-migrated database of this test's own.
    public func makeDatabase() async throws -> (url: DatabaseURL, name: String) {
        let (client, base) = try await running()
        counter += 1
        let name = "test_\(counter)_\(UInt32.random(in: 0 ... .max))"
        try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE \(Self.template)"), logger: logger)
        return (try DatabaseURL(base.replacingOccurrences(of: "/zvonok?", with: "/\(name)?")), name)
    }

    /// A URL for a new database with nothing in it, not even the migrations (for tests of migrating itself).
    public func makeEmptyDatabase() async throws -> (url: DatabaseURL, name: String) {
        let (client, base) = try await running()
        counter += 1
        let name = "empty_\(counter)_\(UInt32.random(in: 0 ... .max))"
        try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE template0"), logger: logger)
        return (try DatabaseURL(base.replacingOccurrences(of: "/zvonok?", with: "/\(name)?")), name)
    }

    /// Drops a database made by `makeDatabase`, closing any connection still open to it.
    public func dropDatabase(_ name: String) async throws {
        let (client, _) = try await running()
        try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
    }

    /// The URL of the cluster's `postgres` maintenance database, for tests of the lifecycle itself.
    public func clusterURL() async throws -> String {
        try await running().url
    }

    private func running() async throws -> (client: PostgresClient, url: String) {
        if startup == nil {
            let logger = logger
            startup = Task { try await Self.start(logger: logger) }
        }
        return try await startup!.value
    }

    private static func start(logger: Logger) async throws -> (client: PostgresClient, url: String) {
        sweepAbandonedClusters(logger: logger)
        let folder = FileManager.default.temporaryDirectory.path + "/\(Self.folderPrefix)\(getpid())"
        var configuration = EmbeddedPostgres.Configuration(dataDirectory: folder, binDirectory: ProcessInfo.processInfo.environment["ZVONOK_PG_BIN"])
        configuration.durable = false
        configuration.database = template
        let embedded = try await EmbeddedPostgres.prepare(configuration, logger: logger)
        try await embedded.start()
        try await startWatchdog(embedded: embedded, folder: folder)

        let templateURL = try DatabaseURL(embedded.url)
        let migrator = Database(url: templateURL, logger: logger, maximumConnections: 1)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await migrator.run() }
            try await migrator.migrate()
            group.cancelAll()
        }
        let maintenance = embedded.url.replacingOccurrences(of: "/\(template)?", with: "/postgres?")
        let client = PostgresClient(configuration: try DatabaseURL(maintenance).configuration, backgroundLogger: logger)
        Task.detached { await client.run() }
        return (client, embedded.url.replacingOccurrences(of: "/\(template)?", with: "/zvonok?"))
    }

    /// Leaves a background shell that waits for this process to end, then stops the cluster and removes its folder.
    static func startWatchdog(embedded: EmbeddedPostgres, folder: String) async throws {
        let stop = embedded.stopCommandLine(mode: "immediate").map(shellQuoted).joined(separator: " ")
        let loop = "while kill -0 \(getpid()) 2>/dev/null; do sleep 0.5; done; \(stop); rm -rf \(shellQuoted(folder))"
        // The outer shell exits at once; the loop runs on with no tie to the test's output, which would keep
        // `swift test` waiting for it.
        try await embedded.runDetached("/bin/sh", ["-c", "(\(loop)) </dev/null >/dev/null 2>&1 &"])
    }

    /// Stops and deletes clusters of earlier test processes that no longer exist (killed before their watchdog ran).
    private static func sweepAbandonedClusters(logger: Logger) {
        let temporary = FileManager.default.temporaryDirectory.path
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []
        for entry in entries where entry.hasPrefix(folderPrefix) {
            guard let pid = pid_t(entry.dropFirst(folderPrefix.count)), kill(pid, 0) != 0, errno == ESRCH else { continue }
            let cluster = "\(temporary)/\(entry)/postgres"
            if let text = try? String(contentsOfFile: cluster + "/postmaster.pid", encoding: .utf8),
                let postmaster = text.split(separator: "\n").first.flatMap({ pid_t($0) })
            {
                kill(postmaster, SIGQUIT)
            }
            try? FileManager.default.removeItem(atPath: "\(temporary)/\(entry)")
            logger.notice("Removed an abandoned test cluster", metadata: ["folder": "\(entry)"])
        }
    }

    private static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
