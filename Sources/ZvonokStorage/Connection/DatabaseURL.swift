import Foundation
public import PostgresNIO

/// A PostgreSQL connection URL as operators write it, turned into a postgres-nio client configuration.
///
/// Accepts `postgres://` and `postgresql://` URLs with user, password, host, port and database, and the libpq
/// form for Unix sockets: `postgresql://user@/db?host=/socket/folder&port=5432`. `sslmode=require` asks for TLS.
public struct DatabaseURL: Sendable, CustomStringConvertible {
    public let configuration: PostgresClient.Configuration
    /// The URL with any password masked, safe to log.
    public let description: String

    public init(_ string: String) throws {
        guard let components = URLComponents(string: string), ["postgres", "postgresql"].contains(components.scheme) else {
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
        if let host, host.hasPrefix("/") {
            configuration = .init(unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: username, password: password, database: database)
        } else {
            let tls: PostgresClient.Configuration.TLS
            switch query["sslmode"] ?? "disable" {
            case "disable", "allow", "prefer": tls = .disable
            case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
            case let other: throw DatabaseURLError(url: string, reason: "unknown sslmode \(other)")
            }
            configuration = .init(host: host ?? "localhost", port: port, username: username, password: password, database: database, tls: tls)
        }
        var redacted = components
        if redacted.password != nil { redacted.password = "***" }
        description = redacted.string ?? "postgresql://…"
    }
}

/// A database URL that cannot be used, with the reason.
public struct DatabaseURLError: Error, CustomStringConvertible {
    public let url: String
    public let reason: String
    public var description: String { "Invalid database URL: \(reason)" }
}
