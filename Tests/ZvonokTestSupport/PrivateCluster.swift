import Foundation
public import ZvonokStorage

/// A PostgreSQL cluster of one test's own, for tests that stop and start the server under a running Zvonok
/// (the shared `TestCluster` serves every other test and must stay up). Migrated; stopped and deleted afterwards,
/// and by a watchdog if the test process dies first.
public struct PrivateCluster: Sendable {
    public let url: DatabaseURL
    private let embedded: EmbeddedPostgres

    /// Runs `body` with a cluster of its own, running and migrated; given a `loopbackPort`, it also listens on
    /// 127.0.0.1 there (for URLs that name hosts, such as the multi-host form).
    public static func with<Result: Sendable>(loopbackPort: Int? = nil, _ body: (PrivateCluster) async throws -> Result) async throws -> Result {
        try await TestSlots.run { try await running(loopbackPort: loopbackPort, body) }
    }

    private static func running<Result: Sendable>(loopbackPort: Int?, _ body: (PrivateCluster) async throws -> Result) async throws -> Result {
        let folder = FileManager.default.temporaryDirectory.path + "/zvonok-private-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        var configuration = EmbeddedPostgres.Configuration(dataDirectory: folder, binDirectory: ProcessInfo.processInfo.environment["ZVONOK_PG_BIN"])
        configuration.durable = false
        if let loopbackPort {
            configuration.port = loopbackPort
            configuration.listenOnLoopback = true
        }
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

    /// Freezes every process of the cluster with SIGSTOP until `thaw()`: its socket still takes connections and
    /// nothing answers, as a server stalled on a dead disk looks from outside.
    public func freeze() throws {
        try signalEveryProcess(SIGSTOP)
    }

    public func thaw() throws {
        try signalEveryProcess(SIGCONT)
    }

    /// Signals the postmaster (its pid is the first line of `postmaster.pid`, in the folder the URL's socket is in)
    /// and each of its children.
    private func signalEveryProcess(_ signal: Int32) throws {
        let folder = URLComponents(string: embedded.url)?.queryItems?.first { $0.name == "host" }?.value ?? ""
        let pidFile = try String(contentsOfFile: folder + "/postmaster.pid", encoding: .utf8)
        guard let postmaster = pid_t(pidFile.prefix { $0 != "\n" }) else { throw CocoaError(.fileReadCorruptFile) }
        for pid in [postmaster] + Self.children(of: postmaster) { kill(pid, signal) }
    }

    private static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { pid in
            // `pid (name) state ppid …`: the name may hold spaces, so the fields are counted from its closing parenthesis.
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let end = stat.lastIndex(of: ")") else {
                return false
            }
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent
        }
    }
}
