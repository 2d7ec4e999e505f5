import Hummingbird
import ZvonokCore

/// What the HTTP API accepts. Fields are checked by `Validation` where they are used. Optional fields may be left
/// out, never sent as `null` (`Omittable`), as the API document says.
enum Body {
    struct NewRegion: Decodable { let code: String; let name: String }
    struct NewNamed: Decodable { let name: String; @Omittable var externalId: String? }
    struct Renamed: Decodable { let name: String }
    struct SchoolChange: Decodable { @Omittable var name: String?; @Omittable var officialId: String? }
    struct NewClass: Decodable { let grade: Int; let letter: String; let year: String; @Omittable var externalId: String? }
    struct NewStaff: Decodable { let name: String; let role: String; @Omittable var externalId: String? }
    struct Assignment: Decodable { let staffId: String; @Omittable var homeroom: Bool? }
    struct PersonChange: Decodable { @Omittable var name: String?; @Omittable var classId: String? }
    struct DirectChat: Decodable { let userId: String }
    /// A body that carries nothing: any JSON object.
    struct Nothing: Decodable {}
    struct NewReport: Decodable { let reason: String }
    struct Rollover: Decodable { let from: String; let to: String; let dryRun: Bool; @Omittable var graduatingGrades: [Int]? }
}

/// A body field that may be left out but, when present, holds a value: `null` is refused (400) like any other wrong
/// type, where Swift's optionals would take it for "left out".
@propertyWrapper
struct Omittable<Value: Decodable>: Decodable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    init(from decoder: any Decoder) throws {
        wrappedValue = try decoder.singleValueContainer().decode(Value.self)
    }
}

extension KeyedDecodingContainer {
    /// A missing key is a field left out; a present one must decode, `null` included (which fails).
    func decode<Value>(_ type: Omittable<Value>.Type, forKey key: Key) throws -> Omittable<Value> {
        guard contains(key) else { return Omittable(wrappedValue: nil) }
        return try Omittable(from: superDecoder(forKey: key))
    }
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

    /// A boolean query parameter: absent or `false` is false, `true` is true, anything else 400.
    func flag(_ name: String) throws(ZvonokError) -> Bool {
        switch uri.queryParameters.get(name) {
        case nil, "false": false
        case "true": true
        default: throw .invalidArgument("\(name) must be true or false")
        }
    }

    /// A path parameter that must be an id of `kind`; anything else names nothing, so 404.
    func id(_ name: String, _ kind: PublicID.Kind, context: ZvonokRequestContext) throws(ZvonokError) -> Int64 {
        guard let text = context.parameters.get(name), let id = PublicID.decode(kind, text) else { throw .notFound() }
        return id
    }
}
