public import Foundation

/// One administrative change as the audit log keeps it: who made it, what it was, when, and where in the structure.
public struct AuditEntry: Sendable, Equatable {
    public let id: Int64
    public let at: Date
    /// Nil when the change did not come through the API (the command line).
    public let actor: Actor?
    /// What was done, such as `person.create` or `roster.upload`.
    public let action: String
    /// The public id (or region code) of what the change was made to.
    public let object: String
    /// The change's particulars (a new name, a class, counts); never a secret.
    public let details: [String: Value]
    public let regionCode: String?
    public let municipalityID: Int64?
    public let schoolID: Int64?

    /// The person behind a change, as they were when the log was read.
    public struct Actor: Sendable, Equatable {
        public let id: Int64
        public let name: String
        public let role: String
    }

    /// A detail's value: the log stores only texts, whole numbers and flags.
    public enum Value: Codable, Sendable, Equatable {
        case text(String)
        case number(Int)
        case flag(Bool)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) {
                self = .flag(flag)
            } else if let number = try? container.decode(Int.self) {
                self = .number(number)
            } else {
                self = .text(try container.decode(String.self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .number(let number): try container.encode(number)
            case .flag(let flag): try container.encode(flag)
            }
        }
    }
}
