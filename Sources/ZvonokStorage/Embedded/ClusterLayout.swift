import Crypto
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The folders of an embedded cluster, chosen so that PostgreSQL can use them: the `postgres` user must reach
/// the data folder when Zvonok runs as root, and a Unix socket path must fit in 107 bytes.
struct ClusterLayout: Sendable {
    /// The cluster's data folder (what `initdb -D` gets).
    var clusterDirectory: String
    /// Where the server puts its Unix socket.
    var socketDirectory: String
    /// Owner of the folders when Zvonok runs as root.
    var user: String?

    /// The user PostgreSQL runs as: `postgres` when we are root, else ourselves (`nil`).
    static func serviceUser() throws -> String? {
        guard geteuid() == 0 else { return nil }
        guard getpwnam("postgres") != nil else { throw EmbeddedPostgresError.noPostgresUser() }
        return "postgres"
    }

    static func resolve(
        _ configuration: EmbeddedPostgres.Configuration,
        user: String?,
        runner: ProcessRunner,
        logger: Logger
    ) async throws -> ClusterLayout {
        let base = URL(fileURLWithPath: configuration.dataDirectory).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        var cluster = base + "/postgres"
        if user != nil, !(try await runner.run("/usr/bin/test", ["-x", base]).succeeded) {
            cluster = "/var/lib/zvonok/\(shortHash(base))/postgres"
            logger.notice(
                "The postgres user cannot reach the data folder; keeping the PostgreSQL cluster elsewhere",
                metadata: ["dataDir": "\(base)", "cluster": "\(cluster)"]
            )
        }
        var layout = ClusterLayout(clusterDirectory: cluster, socketDirectory: cluster, user: user)
        try layout.makePrivateDirectory(cluster)
        // sun_path holds 108 bytes including the terminating zero.
        if (cluster + "/.s.PGSQL.\(configuration.port)").utf8.count > 106 {
            layout.socketDirectory = "/tmp/zvonok-\(shortHash(cluster))"
            try layout.makePrivateDirectory(layout.socketDirectory)
            logger.notice(
                "The data folder's path is too long for a Unix socket; the socket goes to a short folder",
                metadata: ["socketDir": "\(layout.socketDirectory)"]
            )
        }
        return layout
    }

    /// Creates a folder only the cluster's owner may enter (PostgreSQL insists on 0700).
    func makePrivateDirectory(_ path: String) throws {
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
        try handOver(path)
    }

    /// Gives a file or folder we created to the user the cluster runs as.
    func handOver(_ path: String) throws {
        guard let user, let entry = getpwnam(user) else { return }
        guard chown(path, entry.pointee.pw_uid, entry.pointee.pw_gid) == 0 else {
            throw EmbeddedPostgresError(description: "cannot give \(path) to the \(user) user: \(String(cString: strerror(errno)))")
        }
    }

    private static func shortHash(_ text: String) -> String {
        String(SHA256.hex(of: text).prefix(12))
    }
}
