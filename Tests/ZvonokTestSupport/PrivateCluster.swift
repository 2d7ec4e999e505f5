import Foundation
public import ZvonokStorage

/// A PostgreSQL cluster of one test's own, for tests that stop and start the server under a running Zvonok
/// (the shared `TestCluster` serves every other test and must stay up). Migrated; stopped and deleted afterwards,
/// and by a watchdog if the test process dies first.
public struct PrivateCluster: Sendable {
    public let url: DatabaseURL
    private let embedded: EmbeddedPostgres

    /// Runs `body` with a cluster of its own, running and migrated.
    public static func with<Result: Sendable>(_ body: (PrivateCluster) async throws -> Result) async throws -> Result {
        try await TestSlots.run { try await running(body) }
    }

    private static func running<Result: Sendable>(_ body: (PrivateCluster) async throws -> Result) async throws -> Result {
        let folder = FileManager.default.temporaryDirectory.path + "/zvonok-private-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        var configuration = EmbeddedPostgres.Configuration(dataDirectory: folder, binDirectory: ProcessInfo.processInfo.environment["ZVONOK_PG_BIN"])
        configuration.durable = false
        let logger = TestCluster.shared.logger
        let embedded = try await EmbeddedPostgres.prepare(configuration, logger: logger)
        try await embedded.start()
        try await TestCluster.startWatchdog(embedded: embedded, folder: folder)
        let cluster = PrivateCluster(url: try DatabaseURL(embedded.url), embedded: embedded)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            let migrator = Database(url: cluster.url, logger: logger, maximumConnections: 1)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await migrator.run() }
                try await migrator.migrate()
                group.cancelAll()
            }
            let result = try await body(cluster)
            try await embedded.stop(mode: "immediate")
            return result
        } catch {
            try? await embedded.stop(mode: "immediate")
            throw error
        }
    }

    /// Stops the server as an operator would (`fast`: sessions are cut, nothing committed is lost).
    public func stop() async throws {
        try await embedded.stop(mode: "fast")
    }

    /// Starts it again on the same data.
    public func start() async throws {
        try await embedded.start()
    }
}
