import Foundation
import Hummingbird
import ZvonokCore
import ZvonokStorage

/// Resolves `Authorization: Bearer <token>` (or `?token=` on the WebSocket upgrade, for browsers) to the caller.
/// A request without a token passes on anonymous, and routes that need a caller answer 401; an unknown, revoked or
/// expired token is refused here with 401.
///
/// Looking a token up takes a database connection, so a flood of made-up tokens must not: a string that is not shaped
/// like a token is refused without a look-up, and an address whose well-shaped tokens keep failing is answered 429
/// before the look-up once it has failed `failedLookups.capacity` times at once (a school behind one address whose
/// phones hold expired tokens fails a few times a minute, far below).
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = ZvonokRequestContext
    let credentials: CredentialStore
    /// Whether client addresses come from `X-Real-IP` (behind a proxy that sets it).
    let trustProxyHeaders: Bool
    /// Failed look-ups per client address: 100 at once, then 10 a second.
    let failedLookups = RateLimiter(.init(capacity: 100, perSecond: 10))

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = Self.token(in: request) else { return try await next(request, context) }
        guard Secret.isWellFormedToken(token) else { throw ZvonokError.unauthenticated("unknown, revoked or expired token") }
        let address = context.clientAddress(of: request, trustingProxy: trustProxyHeaders)
        guard failedLookups.hasCapacity(address) else {
            throw ZvonokError.rateLimited("too many unknown tokens from this address; wait a moment")
        }
        guard let session = try await credentials.session(token: token) else {
            failedLookups.allow(address)
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
