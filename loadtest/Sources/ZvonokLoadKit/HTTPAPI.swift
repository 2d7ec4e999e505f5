public import AsyncHTTPClient
import Foundation
public import NIOCore
public import NIOHTTP1

/// A small JSON client for Zvonok's HTTP API.
public struct HTTPAPI: Sendable {
    public let base: String
    public let token: String
    public let client: HTTPClient

    public init(base: String, token: String, client: HTTPClient) {
        self.base = base
        self.token = token
        self.client = client
    }

    /// A client of its own on the shared event loop group; end it with `shutdown()`.
    public init(base: String, token: String) {
        self.init(base: base, token: token, client: HTTPClient(eventLoopGroupProvider: .singleton))
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Uploads `bytes` as a file to `chat` (`POST /v1/chats/{id}/files`); returns the answer (`id`, `sha256`, …).
    public func upload(_ bytes: ByteBuffer, name: String, to chat: String, token: String? = nil) async throws -> [String: Any] {
        let query = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "file"
        return try await send(.POST, "/v1/chats/\(chat)/files?name=\(query)", body: bytes, contentType: "application/octet-stream", token: token)
    }

    /// Sends `body` (JSON, or text with its content type) and returns the decoded JSON answer, failing on a non-2xx status.
    @discardableResult
    public func send(
        _ method: HTTPMethod, _ path: String, json: Any? = nil, text: String? = nil, body: ByteBuffer? = nil,
        contentType: String = "application/json",
        token: String? = nil
    ) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token ?? self.token)")
        request.headers.add(name: "Content-Type", value: contentType)
        if let json { request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))) }
        if let text { request.body = .bytes(ByteBuffer(string: text)) }
        if let body { request.body = .bytes(body) }
        let response = try await client.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 64 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
        guard (200..<300).contains(response.status.code) else {
            throw Failure(description: "\(method) \(path): \(response.status.code) \(String(buffer: body))")
        }
        return object
    }
}
