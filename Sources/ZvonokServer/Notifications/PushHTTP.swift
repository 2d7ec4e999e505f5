import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One request to a push service or its token endpoint: the status and up to 64 KiB of the answer, parsed as JSON
/// when it is.
struct PushHTTP: Sendable {
    let http: HTTPClient
    let timeout: Duration

    struct Answer {
        let status: HTTPResponseStatus
        let json: [String: Any]
    }

    func post(_ url: String, headers: [(String, String)], body: Data) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await http.execute(request, timeout: .init(timeout))
        let bytes = try await response.body.collect(upTo: 64 * 1024)
        let json = (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any]
        return Answer(status: response.status, json: json ?? [:])
    }

    /// Sends a notification as JSON and judges the answer with `outcome`; a request that fails is tried again later.
    func deliver(_ url: String, headers: [(String, String)], json: [String: Any], outcome: (Answer) -> PushOutcome) async -> PushOutcome {
        do {
            return outcome(try await postJSON(url, headers: headers, json: json))
        } catch {
            return .retry
        }
    }

    func postJSON(_ url: String, headers: [(String, String)], json: [String: Any]) async throws -> Answer {
        try await post(url, headers: headers + [("Content-Type", "application/json")], body: try JSONSerialization.data(withJSONObject: json))
    }

    /// An OAuth 2.0 token request (RFC 6749 §4.4 and RFC 7523): a form, answered with `access_token` and `expires_in`.
    func accessToken(_ url: String, form: [(String, String)]) async throws -> (token: String, expiresIn: TimeInterval) {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let body = form.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        let answer = try await post(url, headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Data(body.utf8))
        guard answer.status == .ok, let token = answer.json["access_token"] as? String else { throw PushTokenError(status: answer.status.code) }
        return (token, (answer.json["expires_in"] as? Double) ?? 3600)
    }
}

/// A push service's token endpoint refused to issue a token.
struct PushTokenError: Error {
    let status: UInt
}

/// A bearer token fetched when needed and kept until a minute before it expires.
actor AccessTokenCache {
    private let fetch: @Sendable () async throws -> (token: String, expiresIn: TimeInterval)
    private var current: (token: String, expires: Date)?

    init(fetch: @escaping @Sendable () async throws -> (token: String, expiresIn: TimeInterval)) {
        self.fetch = fetch
    }

    func token(now: Date) async throws -> String {
        if let current, current.expires > now { return current.token }
        let fetched = try await fetch()
        current = (fetched.token, now.addingTimeInterval(fetched.expiresIn - 60))
        return fetched.token
    }
}
