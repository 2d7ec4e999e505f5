/// What a person is on the platform (contract §1). The raw values are the contract's strings.
public enum Role: String, Sendable, Codable, CaseIterable {
    case ministry
    case regionalAdmin = "regional_admin"
    case municipalAdmin = "municipal_admin"
    case schoolAdmin = "school_admin"
    case teacher
    case student
    case guardian

    /// A school's staff: the people of `school_staff` chats, who post in the school channel.
    public var isStaff: Bool { self == .schoolAdmin || self == .teacher }

    /// An administrator of part of the structure, whose messages only administrators moderate.
    public var isAdmin: Bool { self == .schoolAdmin || self == .municipalAdmin || self == .regionalAdmin }
}

/// The kinds of chat (contract §4). The raw values are the contract's strings.
public enum ChatKind: String, Sendable, Codable, CaseIterable {
    case `class`
    case classParents = "class_parents"
    case schoolStaff = "school_staff"
    case school
    case municipality
    case direct
}
