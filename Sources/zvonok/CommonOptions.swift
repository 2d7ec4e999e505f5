import ArgumentParser
import Foundation
import Logging
import ZvonokStorage

/// Options every subcommand shares: which database, where Zvonok keeps its files, how much it logs.
struct CommonOptions: ParsableArguments {
    @Option(help: "PostgreSQL URL to use instead of the embedded cluster. [env: ZVONOK_DATABASE_URL]")
    var databaseURL: String?

    @Option(help: "Folder for Zvonok's own files, the embedded cluster among them. [env: ZVONOK_DATA_DIR] (default: .zvonok)")
    var dataDir: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical. [env: ZVONOK_LOG_LEVEL] (default: info)")
    var logLevel: String?

    private var environment: [String: String] { ProcessInfo.processInfo.environment }

    func validate() throws {
        if let level = resolvedLogLevelName, Logger.Level(rawValue: level) == nil {
            throw ValidationError("unknown log level '\(level)'")
        }
    }

    private var resolvedLogLevelName: String? { logLevel ?? environment["ZVONOK_LOG_LEVEL"] }

    func makeLogger() -> Logger {
        var logger = Logger(label: "zvonok")
        logger.logLevel = resolvedLogLevelName.flatMap(Logger.Level.init(rawValue:)) ?? .info
        return logger
    }

    /// The database to work on: the URL's, or the embedded cluster, started if it does not run yet.
    func openDatabase(logger: Logger) async throws -> DatabaseSession {
        if let url = databaseURL ?? environment["ZVONOK_DATABASE_URL"] {
            return DatabaseSession(url: try DatabaseURL(url), embedded: nil, startedHere: false)
        }
        let configuration = EmbeddedPostgres.Configuration(
            dataDirectory: dataDir ?? environment["ZVONOK_DATA_DIR"] ?? ".zvonok",
            binDirectory: environment["ZVONOK_PG_BIN"]
        )
        let embedded = try await EmbeddedPostgres.prepare(configuration, logger: logger)
        let startedHere = try await embedded.start()
        return DatabaseSession(url: try DatabaseURL(embedded.url), embedded: embedded, startedHere: startedHere)
    }
}

/// The database a command runs against, and the embedded cluster behind it, if any.
struct DatabaseSession {
    let url: DatabaseURL
    let embedded: EmbeddedPostgres?
    /// Whether this process started the embedded cluster (a one-off command stops only what it started).
    let startedHere: Bool
}
