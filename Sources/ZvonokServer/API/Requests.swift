import Hummingbird
import ZvonokCore

/// What the HTTP API accepts. Fields are checked by `Validation` where they are used.
enum Body {
    struct NewRegion: Decodable { let code: String; let name: String }
    struct NewNamed: Decodable { let name: String; let externalId: String? }
    struct NewClass: Decodable { let grade: Int; let letter: String; let year: String; let externalId: String? }
    struct NewStaff: Decodable { let name: String; let role: String; let externalId: String? }
    struct Assignment: Decodable { let staffId: String; let homeroom: Bool? }
    struct PersonChange: Decodable { let name: String?; let classId: String? }
    struct DirectChat: Decodable { let userId: String }
    struct NewReport: Decodable { let reason: String }
}

extension Request {
    /// The JSON body as `Value`, or 400 naming what is wrong with it.
    func decodeBody<Value: Decodable>(_ type: Value.Type, context: ZvonokRequestContext) async throws -> Value {
        do {
            return try await decode(as: type, context: context)
        } catch let error as DecodingError {
            throw ZvonokError.invalidArgument("the body is not the JSON this endpoint takes: \(Self.describe(error))")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "missing field \(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case .dataCorrupted: "malformed JSON"
        @unknown default: "malformed JSON"
        }
    }

    /// A path parameter that must be an id of `kind`; anything else names nothing, so 404.
    func id(_ name: String, _ kind: PublicID.Kind, context: ZvonokRequestContext) throws(ZvonokError) -> Int64 {
        guard let text = context.parameters.get(name), let id = PublicID.decode(kind, text) else { throw .notFound() }
        return id
    }
}
