import Foundation
import Hummingbird
import Logging
import NIOCore
import ZvonokCore
import ZvonokStorage

/// Gives every failed request the contract's error body, `{"error": {"code": …, "message": …}}`: Zvonok's own
/// errors, Hummingbird's (unknown route, body too large), undecodable bodies, and — logged, never shown — the rest.
/// A `ResponseCarryingError` answers for itself.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ZvonokRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ZvonokError {
            return Self.response(for: error)
        } catch let error as any ResponseCarryingError {
            throw error
        } catch let error as HTTPError {
            return Self.response(for: Self.translate(error))
        } catch is NIOTooManyBytesError {
            return Self.response(for: ZvonokError(.payloadTooLarge, "the request body is too large"))
        } catch is DecodingError {
            return Self.response(for: .invalidArgument("the request body is not the JSON this endpoint expects"))
        } catch {
            // A database error met while reading rows, after the query itself answered (a statement cancelled by its
            // timeout, say), is the contract's error as much as one the query threw.
            if let known = DatabaseErrorText.contractError(for: error) { return Self.response(for: known) }
            // The route's pattern, never the path: a path can hold a secret (`/v1/invites/{code}/activate`).
            logger.error("Request failed", metadata: ["route": "\(request.method) \(context.endpointPath ?? "unmatched")", "error": "\(error)"])
            return Self.response(for: ZvonokError(.internal, "internal error"))
        }
    }

    static func translate(_ error: HTTPError) -> ZvonokError {
        let message = error.body ?? error.status.reasonPhrase
        switch error.status {
        case .notFound: return .notFound(message)
        case .unauthorized: return .unauthenticated(message)
        case .forbidden: return .forbidden(message)
        case .conflict: return .conflict(message)
        case .contentTooLarge: return ZvonokError(.payloadTooLarge, "the request body is too large")
        case .tooManyRequests: return .rateLimited(message)
        case .serviceUnavailable: return .unavailable(message)
        case .methodNotAllowed: return ZvonokError(.methodNotAllowed, message)
        default: return .invalidArgument(message)
        }
    }

    static func response(for error: ZvonokError) -> Response {
        let body = ErrorBody(error: .init(code: error.code.rawValue, message: error.message))
        let data = (try? JSONEncoder().encode(body)) ?? Data()
        return Response(
            status: status(for: error.code),
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    static func status(for code: ErrorCode) -> HTTPResponse.Status {
        switch code {
        case .invalidArgument: .badRequest
        case .notFound: .notFound
        case .forbidden, .notListed: .forbidden
        case .unauthenticated: .unauthorized
        case .conflict: .conflict
        case .rateLimited: .tooManyRequests
        case .payloadTooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .rangeNotSatisfiable: .rangeNotSatisfiable
        case .methodNotAllowed: .methodNotAllowed
        case .unavailable: .serviceUnavailable
        case .internal: .internalServerError
        }
    }
}

/// The contract's error body.
struct ErrorBody: Codable {
    struct Detail: Codable {
        var code: String
        var message: String
    }
    var error: Detail
}
