import Foundation
import Hummingbird
import ZvonokCore
import ZvonokStorage

/// Resolves `Authorization: Bearer <token>` (or `?token=` on the WebSocket upgrade, for browsers) to the caller.
/// A request without a token passes on anonymous, and routes that need a caller answer 401; an unknown or revoked
/// token is refused here with 401.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = ZvonokRequestContext
    let credentials: CredentialStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = Self.token(in: request) else { return try await next(request, context) }
        guard let session = try await credentials.session(token: token) else {
            throw ZvonokError.unauthenticated("unknown, revoked or expired token")
        }
        var context = context
        context.session = session
        return try await next(request, context)
    }

    static func token(in request: Request) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
            return String(parts[1]).trimmingCharacters(in: .whitespaces)
        }
        if request.uri.path == "/v1/ws" { return request.uri.queryParameters.get("token") }
        return nil
    }
}
