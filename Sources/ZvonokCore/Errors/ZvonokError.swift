/// The stable error codes of the contract: HTTP error bodies and WebSocket `error` frames carry these.
public enum ErrorCode: String, Sendable, Codable, CaseIterable {
    case invalidArgument = "invalid_argument"
    case notFound = "not_found"
    case forbidden
    /// A sign-in through a provider that names nobody the school listed (403).
    case notListed = "not_listed"
    case unauthenticated
    case conflict
    case rateLimited = "rate_limited"
    case payloadTooLarge = "payload_too_large"
    /// A file whose bytes are of a type Zvonok does not accept (415).
    case unsupportedMediaType = "unsupported_media_type"
    /// A `Range` outside the file (416).
    case rangeNotSatisfiable = "range_not_satisfiable"
    case methodNotAllowed = "method_not_allowed"
    case unavailable
    case `internal`
}

/// An error a client is told about: a stable code and a message for people.
public struct ZvonokError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: ErrorCode
    public let message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// Whether what was sent caused the error (a refused value, a duplicate, a missing reference), so that the same
    /// operation without it could succeed; never true of `unavailable` or `internal`.
    public var blamesInput: Bool {
        switch code {
        case .invalidArgument, .notFound, .conflict, .payloadTooLarge, .unsupportedMediaType, .rangeNotSatisfiable: true
        case .forbidden, .notListed, .unauthenticated, .rateLimited, .methodNotAllowed, .unavailable, .internal: false
        }
    }

    public static func invalidArgument(_ message: String) -> Self { Self(.invalidArgument, message) }
    public static func notFound(_ message: String = "not found") -> Self { Self(.notFound, message) }
    public static func forbidden(_ message: String = "not allowed") -> Self { Self(.forbidden, message) }
    public static func unauthenticated(_ message: String = "a valid bearer token is required") -> Self {
        Self(.unauthenticated, message)
    }
    public static func conflict(_ message: String) -> Self { Self(.conflict, message) }
    public static func rateLimited(_ message: String = "too many requests, slow down") -> Self { Self(.rateLimited, message) }
    public static func unavailable(_ message: String = "the database is unavailable, try again") -> Self {
        Self(.unavailable, message)
    }
}
