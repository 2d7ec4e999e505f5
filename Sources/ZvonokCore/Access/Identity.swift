/// The person behind a request, with where they sit in the structure: what every access decision reads.
public struct Identity: Sendable, Equatable {
    public let personID: Int64
    public let role: Role
    public let name: String
    public let regionCode: String?
    public let municipalityID: Int64?
    public let schoolID: Int64?
    public let classID: Int64?

    public init(personID: Int64, role: Role, name: String, regionCode: String?, municipalityID: Int64?, schoolID: Int64?, classID: Int64?) {
        self.personID = personID
        self.role = role
        self.name = name
        self.regionCode = regionCode
        self.municipalityID = municipalityID
        self.schoolID = schoolID
        self.classID = classID
    }

    public var placement: Placement {
        Placement(regionCode: regionCode ?? "", municipalityID: municipalityID, schoolID: schoolID)
    }
}

/// Where a thing sits in the structure. A region-level thing has no municipality; a municipality-level one no school.
public struct Placement: Sendable, Equatable {
    public let regionCode: String
    public let municipalityID: Int64?
    public let schoolID: Int64?

    public init(regionCode: String, municipalityID: Int64? = nil, schoolID: Int64? = nil) {
        self.regionCode = regionCode
        self.municipalityID = municipalityID
        self.schoolID = schoolID
    }
}

extension Identity {
    /// Whether this person's admin rights reach `placement`: a regional admin over their region, a municipal admin
    /// over their municipality, a school admin over their school. The ministry only reads, so this is false for it.
    public func administers(_ placement: Placement) -> Bool {
        switch role {
        case .regionalAdmin: regionCode == placement.regionCode
        case .municipalAdmin: placement.municipalityID != nil && municipalityID == placement.municipalityID
        case .schoolAdmin: placement.schoolID != nil && schoolID == placement.schoolID
        case .ministry, .teacher, .student, .guardian: false
        }
    }

    /// Whether this person may read the admin view of `placement`: the ministry everywhere, admins in their subtree.
    public func oversees(_ placement: Placement) -> Bool {
        role == .ministry || administers(placement)
    }

    /// Throws 403 unless this person administers `placement`.
    public func requireAdministers(_ placement: Placement) throws(ZvonokError) {
        guard administers(placement) else { throw .forbidden("outside your part of the structure") }
    }

    /// Throws 403 unless this person oversees `placement`.
    public func requireOversees(_ placement: Placement) throws(ZvonokError) {
        guard oversees(placement) else { throw .forbidden("outside your part of the structure") }
    }
}

extension Identity {
    /// Whether this person may change `person` (rename, move, re-invite, remove): the level above them — the ministry
    /// for regional admins, a regional admin for municipal admins, the school's admins (and those above) for the
    /// school's people.
    public func manages(_ person: Person) -> Bool {
        switch person.role {
        case .ministry: false
        case .regionalAdmin: role == .ministry
        case .municipalAdmin: role == .regionalAdmin && regionCode == person.regionCode
        case .schoolAdmin, .teacher, .student, .guardian: administers(person.placement)
        }
    }
}
