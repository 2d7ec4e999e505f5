import Hummingbird
import HummingbirdTesting
import Logging
import ZvonokServer
import ZvonokStorage
import ZvonokTestSupport

/// Builds a server on a fresh test database, listening on a free loopback port.
func withTestServer<Result: Sendable>(
    _ body: @Sendable @escaping (any TestClientProtocol) async throws -> Result
) async throws -> Result {
    try await withTestDatabaseURL { url in
        let app = makeTestApplication(url: url)
        return try await app.test(.live, body)
    }
}

func makeTestApplication(url: DatabaseURL, configure: (inout ServerConfiguration) -> Void = { _ in }) -> some ApplicationProtocol {
    var logger = Logger(label: "zvonok.test-server")
    logger.logLevel = .warning
    var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
    configure(&configuration)
    return ZvonokApplication.build(
        configuration: configuration,
        database: Database(url: url, logger: logger, maximumConnections: 8),
        logger: logger
    )
}
