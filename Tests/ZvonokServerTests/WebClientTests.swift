import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import ZvonokServer
import ZvonokStorage

/// The web client's pages and files are served as they are, with their content types.
@Suite struct WebClientTests {
    @Test(arguments: [
        ("/", "text/html", "<title>Звонок — школьные чаты</title>"),
        ("/rating", "text/html", "еженедельный рейтинг"),
        ("/admin", "text/html", "<title>Звонок — администрирование</title>"),
        ("/assets/admin.js", "text/javascript", "dryRun=true"),
        ("/assets/admin.css", "text/css", "@media print"),
        ("/assets/chat.js", "text/javascript", "\"sync\""),
        ("/assets/style.css", "text/css", "@media (max-width: 700px)"),
    ])
    func servesTheFile(path: String, type: String, content: String) async throws {
        try await withRouterApplication { client in
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix(type) == true)
                #expect(String(buffer: response.body).contains(content))
            }
        }
    }

    @Test func pagesLoadScriptsFromThisServerOnly() async throws {
        try await withRouterApplication { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            }
        }
    }

    @Test(arguments: ["/assets/nothing.js", "/assets/..%2FPackage.swift", "/index.html"])
    func unknownFilesAre404(path: String) async throws {
        try await withRouterApplication { client in
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    /// The router alone: static routes never reach the database.
    private func withRouterApplication(_ body: @Sendable @escaping (any TestClientProtocol) async throws -> Void) async throws {
        let router = ZvonokApplication.makeRouter(
            configuration: ServerConfiguration(),
            database: Database(url: try DatabaseURL("postgres://nobody@127.0.0.1:1/none"), logger: testLogger),
            logger: testLogger
        )
        try await Application(router: router, logger: testLogger).test(.router, body)
    }
}
