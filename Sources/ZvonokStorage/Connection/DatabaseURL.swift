import Foundation
import NIOSSL
public import PostgresNIO

/// A PostgreSQL connection URL as operators write it, turned into a postgres-nio client configuration.
///
/// Accepts `postgres://` and `postgresql://` URLs with user, password, host, port and database; the libpq form for
/// Unix sockets: `postgresql://user@/db?host=/socket/folder&port=5432`; and libpq's multi-host form that
/// pg_auto_failover hands out, `postgres://h1:p1,h2:p2/db?target_session_attrs=read-write`, for which `Database`
/// follows whichever host accepts writes. `sslmode` means what it means to libpq: `require` encrypts without checking
/// the server's certificate, `verify-ca` checks it against `sslrootcert` (or the system's roots), `verify-full` also
/// checks the host name.
public struct DatabaseURL: Sendable, CustomStringConvertible {
    /// One host of the URL.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public let host: String
        public let port: Int
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// Which host of several Zvonok connects to (libpq's `target_session_attrs`).
    public enum TargetSession: String, Sendable {
        /// The first host that accepts a connection (libpq's default).
        case any
        /// The host that accepts writes: the primary (`read-write`, or `primary` as PostgreSQL 14 added).
        case readWrite = "read-write"
    }

    /// The configuration of the first host (the only one in a single-host URL).
    public let configuration: PostgresClient.Configuration
    /// The hosts in the order given; one for a single-host or socket URL.
    public let endpoints: [Endpoint]
    public let targetSession: TargetSession
    /// TLS as `sslmode` asks for it, nil without (the primary's probes connect as the pool does).
    let tls: TLSConfiguration?
    /// The URL with any password masked, safe to log.
    public let description: String

    public init(_ string: String) throws {
        let (single, hosts) = try Self.splittingHosts(string)
        guard let components = URLComponents(string: single), ["postgres", "postgresql"].contains(components.scheme) else {
            throw DatabaseURLError(url: string, reason: "expected postgresql://user:password@host:port/database")
        }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") },
            uniquingKeysWith: { _, last in last }
        )
        let username = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        let password = components.password.flatMap { $0.removingPercentEncoding }
        let database = String(components.path.dropFirst()).removingPercentEncoding.flatMap { $0.isEmpty ? nil : $0 }
        let host = query["host"] ?? components.host.flatMap { $0.isEmpty ? nil : $0 }
        guard let port = Int(query["port"] ?? components.port.map(String.init) ?? "5432") else {
            throw DatabaseURLError(url: string, reason: "the port is not a number")
        }
        targetSession = try Self.targetSession(query["target_session_attrs"], url: string)
        if let host, host.hasPrefix("/") {
            guard hosts == nil else { throw DatabaseURLError(url: string, reason: "several hosts cannot be combined with a socket folder") }
            configuration = .init(unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: username, password: password, database: database)
            tls = nil
            endpoints = [Endpoint(host: host, port: port)]
        } else {
            tls = try Self.tls(query["sslmode"], rootCertificate: query["sslrootcert"], url: string)
            // libpq: a listed host without a port of its own takes `port=`, else 5432.
            let listedDefault = Int(query["port"] ?? "5432") ?? 5432
            endpoints =
                try hosts?.map { try Self.endpoint($0, defaultPort: listedDefault, url: string) } ?? [Endpoint(host: host ?? "localhost", port: port)]
            configuration = .init(
                host: endpoints[0].host, port: endpoints[0].port, username: username, password: password, database: database,
                tls: tls.map { .require($0) } ?? .disable)
        }
        var redacted = components
        if redacted.password != nil { redacted.password = "***" }
        let masked = redacted.string ?? "postgresql://…"
        description = hosts.map { Self.replacingHost(in: masked, with: $0.joined(separator: ",")) } ?? masked
    }

    /// The client configuration for one of the URL's hosts: the same user, database, TLS and options (the first host's
    /// is `configuration` itself, a Unix socket's included).
    public func configuration(for endpoint: Endpoint) -> PostgresClient.Configuration {
        guard endpoint != endpoints[0] else { return configuration }
        var other = PostgresClient.Configuration(
            host: endpoint.host, port: endpoint.port, username: configuration.username, password: configuration.password,
            database: configuration.database, tls: configuration.tls)
        other.options = configuration.options
        return other
    }

    private static func tls(_ mode: String?, rootCertificate: String?, url: String) throws -> TLSConfiguration? {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let rootCertificate { tls.trustRoots = .file(rootCertificate) }
        switch mode ?? "disable" {
        case "disable", "allow", "prefer": return nil
        case "require": tls.certificateVerification = .none
        case "verify-ca": tls.certificateVerification = .noHostnameVerification
        case "verify-full": tls.certificateVerification = .fullVerification
        case let other: throw DatabaseURLError(url: url, reason: "unknown sslmode \(other)")
        }
        return tls
    }

    private static func targetSession(_ value: String?, url: String) throws -> TargetSession {
        switch value ?? "any" {
        case "any": return .any
        case "read-write", "primary": return .readWrite
        case let other: throw DatabaseURLError(url: url, reason: "target_session_attrs=\(other): Zvonok writes, so only read-write, primary or any")
        }
    }
}

/// A database URL that cannot be used, with the reason.
public struct DatabaseURLError: Error, CustomStringConvertible {
    public let url: String
    public let reason: String
    public var description: String { "Invalid database URL: \(reason)" }
}
