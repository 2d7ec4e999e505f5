public import Foundation

/// The folder holding the PostgreSQL server programs (`initdb`, `pg_ctl`, `postgres`) that the embedded cluster runs.
public struct PostgresBinaries: Sendable, Equatable {
    public let directory: String

    static let required = ["initdb", "pg_ctl", "postgres"]

    public init(directory: String) {
        self.directory = directory
    }

    func path(_ program: String) -> String { directory + "/" + program }

    /// Finds the server programs: `ZVONOK_PG_BIN` (or the given folder) first, then `pg_config --bindir`,
    /// then the newest `/usr/lib/postgresql/*/bin`, then `PATH`.
    public static func locate(
        explicit: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> PostgresBinaries {
        if let explicit {
            guard isComplete(explicit) else { throw EmbeddedPostgresError.binariesMissing(searched: [explicit]) }
            return PostgresBinaries(directory: explicit)
        }
        var candidates: [String] = []
        if let pgConfig = findInPath("pg_config", environment: environment),
            let output = try? await ProcessRunner(user: nil).run(pgConfig, ["--bindir"]), output.succeeded
        {
            candidates.append(output.text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        candidates += debianVersionFolders()
        if let initdb = findInPath("initdb", environment: environment) {
            let resolved = URL(fileURLWithPath: initdb).resolvingSymlinksInPath().deletingLastPathComponent().path
            candidates.append(resolved)
        }
        guard let found = candidates.first(where: isComplete) else {
            throw EmbeddedPostgresError.binariesMissing(searched: candidates)
        }
        return PostgresBinaries(directory: found)
    }

    private static func isComplete(_ directory: String) -> Bool {
        required.allSatisfy { FileManager.default.isExecutableFile(atPath: directory + "/" + $0) }
    }

    /// `/usr/lib/postgresql/<major>/bin`, newest major first, as Debian and Ubuntu install them.
    private static func debianVersionFolders() -> [String] {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions.compactMap(Int.init).sorted(by: >).map { "\(root)/\($0)/bin" }
    }

    private static func findInPath(_ program: String, environment: [String: String]) -> String? {
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(program)" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }
}
