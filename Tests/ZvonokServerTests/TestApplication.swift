import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationCompat
import ZvonokServer
import ZvonokStorage
import ZvonokTestSupport

/// Runs `body` against a live server on a fresh test database, with a ministry token already minted.
func withTestServer<Result: Sendable>(
    configure: (inout ServerConfiguration) -> Void = { _ in },
    _ body: @Sendable @escaping (APIClient) async throws -> Result
) async throws -> Result {
    try await withTestDatabaseURL { url in try await withTestServer(on: url, configure: configure, body) }
}

/// Runs `body` against a live server on the database at `url`, with a ministry token already minted.
func withTestServer<Result: Sendable>(
    on url: DatabaseURL,
    configure: (inout ServerConfiguration) -> Void = { _ in },
    timeouts: Database.Timeouts = .init(),
    _ body: @Sendable @escaping (APIClient) async throws -> Result
) async throws -> Result {
    let ministryToken = try await withRunningDatabase(url) { database in
        try await CredentialStore(database: database).mintMinistryToken(name: "Министерство")
    }
    let app = try makeTestApplication(url: url, configure: configure, timeouts: timeouts)
    return try await app.test(.live) { client in try await body(APIClient(client: client, ministryToken: ministryToken, databaseURL: url)) }
}

/// A short-lived pool on the test database, for setting things up beside the server.
func withRunningDatabase<Result: Sendable>(_ url: DatabaseURL, _ body: (Database) async throws -> Result) async throws -> Result {
    let database = Database(url: url, logger: testLogger, maximumConnections: 2)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await database.run() }
        defer { group.cancelAll() }
        return try await body(database)
    }
}

let testLogger: Logger = {
    var logger = Logger(label: "zvonok.test-server")
    logger.logLevel = .warning
    return logger
}()

func makeTestApplication(
    url: DatabaseURL, configure: (inout ServerConfiguration) -> Void = { _ in }, timeouts: Database.Timeouts = .init()
) throws -> some ApplicationProtocol {
    var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
    configure(&configuration)
    return try ZvonokApplication.build(
        configuration: configuration,
        database: Database(url: url, logger: testLogger, maximumConnections: 8, timeouts: timeouts),
        logger: testLogger
    )
}

/// A JSON answer: the status and the decoded body (nil when there was none or it was not JSON).
struct Answer: @unchecked Sendable {
    let status: HTTPResponse.Status
    let json: Any?
    var contentType: String? = nil

    subscript(_ key: String) -> Any? { (json as? [String: Any])?[key] }
    func string(_ key: String) -> String? { self[key] as? String }
    var items: [[String: Any]] { (self["items"] as? [[String: Any]]) ?? [] }
    var errorCode: String? { (self["error"] as? [String: Any])?["code"] as? String }
}

/// Speaks JSON to the live test server.
struct APIClient: Sendable {
    let client: any TestClientProtocol
    let ministryToken: String
    /// The server's database, for setting up what the API does not offer yet.
    let databaseURL: DatabaseURL

    @discardableResult
    func call(_ method: HTTPRequest.Method, _ path: String, token: String?, json: [String: Any]? = nil, accept: String? = nil) async throws -> Answer
    {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let accept { headers[.accept] = accept }
        let body = try json.map { ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: $0)) }
        return try await client.execute(uri: path, method: method, headers: headers, body: body) { response in
            let data = Data(buffer: response.body, byteTransferStrategy: .copy)
            let json = data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data)
            return Answer(status: response.status, json: json, contentType: response.headers[.contentType])
        }
    }

    /// Sends `body` as it is, with its content type (CSV, or JSON that is not an object).
    func send(_ method: HTTPRequest.Method, _ path: String, token: String, body: String, contentType: String) async throws -> Answer {
        try await client.execute(
            uri: path, method: method, headers: [.authorization: "Bearer \(token)", .contentType: contentType], body: ByteBuffer(string: body)
        ) { response in
            Answer(status: response.status, json: try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)))
        }
    }

    func post(_ path: String, token: String?, _ json: [String: Any] = [:]) async throws -> Answer {
        try await call(.post, path, token: token, json: json)
    }

    func get(_ path: String, token: String?) async throws -> Answer {
        try await call(.get, path, token: token)
    }

    /// Activates an invite code and returns the token.
    func activate(_ code: String) async throws -> String {
        let answer = try await post("/v1/invites/\(code)/activate", token: nil)
        guard answer.status == .ok, let token = answer.string("token") else { throw TestFailure("activation failed: \(answer.status)") }
        return token
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
