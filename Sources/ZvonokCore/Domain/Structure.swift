public import Foundation

/// A region of the country, named by its two-digit code.
public struct Region: Sendable, Equatable {
    public let code: String
    public let name: String

    public init(code: String, name: String) {
        self.code = code
        self.name = name
    }
}

/// A municipality (district or city) inside a region.
public struct Municipality: Sendable, Equatable {
    public let id: Int64
    public let regionCode: String
    public let name: String
    public let externalID: String?

    public init(id: Int64, regionCode: String, name: String, externalID: String?) {
        self.id = id
        self.regionCode = regionCode
        self.name = name
        self.externalID = externalID
    }

    public var placement: Placement { Placement(regionCode: regionCode, municipalityID: id) }
}

/// A school inside a municipality.
public struct School: Sendable, Equatable {
    public let id: Int64
    public let regionCode: String
    public let municipalityID: Int64
    public let name: String
    public let externalID: String?
    /// Its number in the official registry of general-education organisations, matched against the region's registry.
    public var officialID: String?

    public init(id: Int64, regionCode: String, municipalityID: Int64, name: String, externalID: String?, officialID: String? = nil) {
        self.id = id
        self.regionCode = regionCode
        self.municipalityID = municipalityID
        self.name = name
        self.externalID = externalID
        self.officialID = officialID
    }

    public var placement: Placement { Placement(regionCode: regionCode, municipalityID: municipalityID, schoolID: id) }
}

/// A class of a school for one school year, such as 5А in 2026/2027.
public struct SchoolClass: Sendable, Equatable {
    public let id: Int64
    public let schoolID: Int64
    public let grade: Int
    public let letter: String
    public let year: String
    public let externalID: String?

    public init(id: Int64, schoolID: Int64, grade: Int, letter: String, year: String, externalID: String?) {
        self.id = id
        self.schoolID = schoolID
        self.grade = grade
        self.letter = letter
        self.year = year
        self.externalID = externalID
    }

    /// "5А", as people say it.
    public var label: String { "\(grade)\(letter)" }
}

/// Anyone who can hold a token, with where they belong.
public struct Person: Sendable, Equatable {
    public let id: Int64
    public let role: Role
    public let name: String
    public let externalID: String?
    public let regionCode: String?
    public let municipalityID: Int64?
    public let schoolID: Int64?
    public let classID: Int64?
    public let registeredAt: Date?

    public init(
        id: Int64, role: Role, name: String, externalID: String?, regionCode: String?, municipalityID: Int64?,
        schoolID: Int64?, classID: Int64?, registeredAt: Date?
    ) {
        self.id = id
        self.role = role
        self.name = name
        self.externalID = externalID
        self.regionCode = regionCode
        self.municipalityID = municipalityID
        self.schoolID = schoolID
        self.classID = classID
        self.registeredAt = registeredAt
    }

    public var identity: Identity {
        Identity(personID: id, role: role, name: name, regionCode: regionCode, municipalityID: municipalityID, schoolID: schoolID, classID: classID)
    }

    /// Where the person sits, for the admins above them. A regional admin sits at region level, and so on.
    public var placement: Placement { identity.placement }
}

/// A chat as its member sees it in their list.
public struct ChatSummary: Sendable, Equatable {
    public let id: Int64
    public let kind: ChatKind
    public let title: String
    public let lastSeq: Int64
    public let readSeq: Int64

    public init(id: Int64, kind: ChatKind, title: String, lastSeq: Int64, readSeq: Int64) {
        self.id = id
        self.kind = kind
        self.title = title
        self.lastSeq = lastSeq
        self.readSeq = readSeq
    }
}

/// A person joined or left a chat because the structure changed; open connections follow these.
public struct MembershipChange: Sendable, Equatable, Hashable {
    public let chatID: Int64
    public let personID: Int64
    public let joined: Bool

    public init(chatID: Int64, personID: Int64, joined: Bool) {
        self.chatID = chatID
        self.personID = personID
        self.joined = joined
    }
}
