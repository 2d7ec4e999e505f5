import Hummingbird
import Synchronization
import ZvonokCore

/// Answers 405 `method_not_allowed`, with `Allow`, for a path the server serves under other methods (`TRACE /v1/me`,
/// `DELETE /v1/regions`), where the router alone would answer 404: the client learns it used the wrong method, not
/// that the path is missing. Paths served under no method stay 404.
///
/// It sits in front of every route and acts only where the router matched none (no endpoint path yet); the routes'
/// paths and methods are read from the router once every route is registered (`load`).
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = ZvonokRequestContext

    /// The served paths as segments (nil for a parameter) with their methods, filled once the router is complete.
    final class RouteTable: Sendable {
        private let routes = Mutex<[(segments: [Substring?], methods: Set<HTTPRequest.Method>)]>([])

        func load(_ served: [Router<Context>.RouteDescription]) {
            let byPath = Dictionary(grouping: served, by: { $0.path.description })
            routes.withLock { routes in
                routes = byPath.map { path, described in
                    // A parameter reads `{name}` (`:name` where it was registered); every route here is whole segments.
                    (Self.segments(path).map { $0.hasPrefix("{") || $0.hasPrefix(":") || $0 == "*" ? nil : $0 }, Set(described.map(\.method)))
                }
            }
        }

        /// The methods served at `path`, empty when no route has this path.
        func methods(at path: String) -> Set<HTTPRequest.Method> {
            let asked = Self.segments(path)
            return routes.withLock { routes in
                routes.filter { route in
                    route.segments.count == asked.count && zip(route.segments, asked).allSatisfy { $0 == nil || $0 == $1 }
                }.reduce(into: []) { $0.formUnion($1.methods) }
            }
        }

        private static func segments(_ path: String) -> [Substring] {
            path.split(separator: "/")
        }
    }

    let table: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.endpointPath == nil else { return try await next(request, context) }
        let allowed = table.methods(at: request.uri.path)
        guard !allowed.isEmpty, !allowed.contains(request.method) else { return try await next(request, context) }
        var response = ErrorMiddleware.response(for: ZvonokError(.methodNotAllowed, "\(request.method) is not served here"))
        response.headers[.allow] = allowed.map(\.rawValue).sorted().joined(separator: ", ")
        return response
    }
}
