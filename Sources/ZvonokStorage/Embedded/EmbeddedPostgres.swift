import Crypto
import Foundation
public import Logging
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of Zvonok's own, run from the system's server programs in a data folder of its own.
///
/// `swift run zvonok` and `swift test` use it when no database URL is given. The cluster listens on a Unix socket
/// in its folder (and on loopback only when asked), is reused by the next start, and runs as the `postgres` user
/// when Zvonok runs as root, since PostgreSQL refuses root.
public struct EmbeddedPostgres: Sendable {
    /// Where and how the cluster runs.
    public struct Configuration: Sendable {
        /// Zvonok's data folder; the cluster lives in its `postgres` subfolder.
        public var dataDirectory: String
        /// The folder of the server programs; found automatically when `nil`.
        public var binDirectory: String?
        /// Names the socket file, and is the TCP port when `listenOnLoopback` is set.
        public var port: Int = 5432
        /// Also listen on 127.0.0.1 (for psql or a second process without socket access).
        public var listenOnLoopback: Bool = false
        /// `false` turns fsync off: for throwaway test clusters only.
        public var durable: Bool = true
        /// The database Zvonok uses inside the cluster.
        public var database: String = "zvonok"

        public init(dataDirectory: String, binDirectory: String? = nil) {
            self.dataDirectory = dataDirectory
            self.binDirectory = binDirectory
        }
    }

    /// The superuser that `initdb` creates; trusted on the private socket only.
    static let superuser = "zvonok"

    public let configuration: Configuration
    let layout: ClusterLayout
    let binaries: PostgresBinaries
    let runner: ProcessRunner
    let logger: Logger

    /// Works out where the cluster lives and which programs run it; touches nothing until `start()`.
    public static func prepare(_ configuration: Configuration, logger: Logger) async throws -> EmbeddedPostgres {
        let binaries = try await PostgresBinaries.locate(explicit: configuration.binDirectory)
        let user = try ClusterLayout.serviceUser()
        let runner = ProcessRunner(user: user)
        let layout = try await ClusterLayout.resolve(configuration, user: user, runner: runner, logger: logger)
        return EmbeddedPostgres(configuration: configuration, layout: layout, binaries: binaries, runner: runner, logger: logger)
    }

    /// The URL clients use to reach the cluster (libpq style, so `psql` accepts it too).
    public var url: String {
        "postgresql://\(Self.superuser)@/\(configuration.database)?host=\(layout.socketDirectory)&port=\(configuration.port)"
    }

    /// Initializes the cluster on first use, starts it unless it already runs, and creates the database.
    /// Returns whether this call started the server (and so should stop it).
    @discardableResult
    public func start() async throws -> Bool {
        if !FileManager.default.fileExists(atPath: layout.clusterDirectory + "/PG_VERSION") {
            try await initialize()
        }
        try writeSettings()
        let startedHere: Bool
        if try await isRunning() {
            logger.info("Reusing the PostgreSQL cluster already running", metadata: ["folder": "\(layout.clusterDirectory)"])
            startedHere = false
        } else {
            try await pgCtl(["start", "-w", "-t", "60", "-s", "-l", layout.clusterDirectory + "/postgres.log"])
            startedHere = true
        }
        try await createDatabaseIfMissing()
        return startedHere
    }

    /// Stops the server: `fast` lets it finish cleanly, `immediate` is for throwaway test clusters.
    public func stop(mode: String = "fast") async throws {
        guard try await isRunning() else { return }
        try await pgCtl(["stop", "-w", "-t", "60", "-s", "-m", mode])
    }

    /// The command that stops the server, for a process that outlives this one (a test run's watchdog).
    public func stopCommandLine(mode: String) -> [String] {
        let command = [binaries.path("pg_ctl"), "-D", layout.clusterDirectory, "stop", "-w", "-m", mode]
        return runner.user.map { ["/usr/sbin/runuser", "-u", $0, "--"] + command } ?? command
    }

    /// Runs a short program as the current user (not the cluster's), for helpers that must outlive this process.
    public func runDetached(_ executable: String, _ arguments: [String]) async throws {
        _ = try await ProcessRunner(user: nil).run(executable, arguments)
    }

    /// Whether a server is running on this cluster's folder.
    public func isRunning() async throws -> Bool {
        let output = try await runner.run(binaries.path("pg_ctl"), ["status", "-D", layout.clusterDirectory])
        return output.succeeded
    }

    private func initialize() async throws {
        logger.info("Creating a PostgreSQL cluster", metadata: ["folder": "\(layout.clusterDirectory)"])
        let output = try await runner.run(
            binaries.path("initdb"),
            ["-D", layout.clusterDirectory, "-U", Self.superuser, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions"]
        )
        guard output.succeeded else { throw EmbeddedPostgresError.commandFailed("initdb", output: output.text) }
        let mainFile = layout.clusterDirectory + "/postgresql.conf"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: mainFile))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\ninclude_if_exists = 'zvonok.conf'\n".utf8))
        try handle.close()
    }

    /// Settings Zvonok owns, rewritten on every start so that a changed port or socket folder takes effect.
    private func writeSettings() throws {
        var settings: [(String, String)] = [
            ("port", "\(configuration.port)"),
            ("listen_addresses", configuration.listenOnLoopback ? "127.0.0.1" : ""),
            ("unix_socket_directories", layout.socketDirectory),
            ("unix_socket_permissions", "0700"),
            ("max_connections", "200"),
            ("shared_buffers", "256MB"),
            ("timezone", "UTC"),
        ]
        if !configuration.durable {
            settings += [("fsync", "off"), ("full_page_writes", "off")]
        }
        let text = settings.map { "\($0.0) = '\($0.1.replacingOccurrences(of: "'", with: "''"))'" }.joined(separator: "\n")
        let path = layout.clusterDirectory + "/zvonok.conf"
        try Data(("# Written by Zvonok on every start.\n" + text + "\n").utf8).write(to: URL(fileURLWithPath: path))
        try layout.handOver(path)
    }

    private func pgCtl(_ arguments: [String]) async throws {
        let output = try await runner.run(binaries.path("pg_ctl"), ["-D", layout.clusterDirectory] + arguments)
        guard output.succeeded else {
            let log = (try? String(contentsOfFile: layout.clusterDirectory + "/postgres.log", encoding: .utf8)) ?? ""
            let tail = log.split(separator: "\n").suffix(5).joined(separator: "\n")
            throw EmbeddedPostgresError.commandFailed("pg_ctl \(arguments.first ?? "")", output: output.text + "\n" + tail)
        }
    }

    private func createDatabaseIfMissing() async throws {
        let name = configuration.database
        precondition(name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }, "database names are plain identifiers")
        let socket = layout.socketDirectory + "/.s.PGSQL.\(configuration.port)"
        let connection = try await PostgresConnection.connect(
            on: PostgresClient.defaultEventLoopGroup.next(),
            configuration: .init(unixSocketPath: socket, username: Self.superuser, password: nil, database: "postgres"),
            id: 0,
            logger: logger
        )
        do {
            let rows = try await connection.query("SELECT 1 FROM pg_database WHERE datname = \(name)", logger: logger)
            var exists = false
            for try await _ in rows { exists = true }
            if !exists {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(name)\""), logger: logger)
            }
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
