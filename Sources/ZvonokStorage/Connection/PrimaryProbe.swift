import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import ZvonokCore

/// Asks the hosts of a database URL which of them is the primary, each over a connection of its own, opened and closed
/// for the question: a pooled one could be the very connection that a dying server no longer answers.
struct PrimaryProbe: Sendable {
    let url: DatabaseURL
    let logger: Logger
    /// The longest one host may take to connect and answer.
    let timeout: Duration

    /// One host's answer: it accepts the session, or why not.
    enum Answer: Equatable {
        case accepts
        case refuses(String)
    }

    /// The first host, in the URL's order, that the target session accepts (the writable one for `read-write`); nil
    /// when none does (the primary is down and no standby promoted yet).
    func find() async -> DatabaseURL.Endpoint? {
        for endpoint in url.endpoints where await check(endpoint) == .accepts { return endpoint }
        return nil
    }

    /// Whether `endpoint` answers in time and, for `read-write`, accepts writes.
    func check(_ endpoint: DatabaseURL.Endpoint) async -> Answer {
        let logger = self.logger, writableOnly = url.targetSession == .readWrite
        do {
            let configuration = try connectionConfiguration(endpoint)
            return try await withTimeout(timeout) {
                let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
                // Closed on every path before it goes: postgres-nio asserts that a connection is closed when it is freed.
                do {
                    let accepted = writableOnly ? try await Self.acceptsWrites(connection, logger: logger) : true
                    try? await connection.close()
                    return accepted ? .accepts : .refuses("read-only")
                } catch {
                    try? await connection.close()
                    throw error
                }
            }
        } catch is TimeoutError {
            return .refuses("no answer within \(timeout)")
        } catch {
            return .refuses(DatabaseErrorText.describe(error))
        }
    }

    private static func acceptsWrites(_ connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.query("SELECT current_setting('transaction_read_only') = 'off'", logger: logger)
        return try await rows.decode(Bool.self).first(where: { _ in true }) == true
    }

    private func connectionConfiguration(_ endpoint: DatabaseURL.Endpoint) throws -> PostgresConnection.Configuration {
        let client = url.configuration
        let tls: PostgresConnection.Configuration.TLS = try url.tls.map { .require(try NIOSSLContext(configuration: $0)) } ?? .disable
        var configuration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: client.username, password: client.password, database: client.database, tls: tls)
        configuration.options.connectTimeout = TimeAmount(timeout)
        return configuration
    }
}
