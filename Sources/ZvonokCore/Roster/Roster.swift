/// A whole school as a regional information system exports it: classes, staff, students and guardians, each keyed
/// by `externalId` (contract §3, `PUT /v1/schools/{id}/roster`). Rows that fail validation are kept as errors with
/// their line, so that one bad row does not sink the rest.
public struct Roster: Sendable, Equatable {
    public struct ClassRow: Sendable, Equatable {
        public let line: Int
        public let externalID: String
        public let grade: Int
        public let letter: String
        public let year: String
    }

    public struct StaffRow: Sendable, Equatable {
        public let line: Int
        public let externalID: String
        public let name: String
        public let role: Role
        /// External ids of the classes they teach.
        public let classes: [String]
        /// External ids of the classes they lead as homeroom teacher (a subset of `classes`).
        public let homeroom: Set<String>
        /// The e-mail address a sign-in provider's verified address links (`Validation.email`); nil: not stated.
        public let email: String?
    }

    public struct StudentRow: Sendable, Equatable {
        public let line: Int
        public let externalID: String
        public let name: String
        /// External id of their class.
        public let classID: String
        /// The e-mail address a sign-in provider's verified address links; nil: not stated.
        public let email: String?
    }

    public struct GuardianRow: Sendable, Equatable {
        public let line: Int
        public let externalID: String
        public let name: String
        /// External ids of their students.
        public let students: [String]
        /// The e-mail address a sign-in provider's verified address links; nil: not stated.
        public let email: String?
    }

    /// A row that was refused, and why.
    public struct RowError: Sendable, Equatable {
        public let line: Int
        public let message: String

        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }
    }

    public var classes: [ClassRow] = []
    public var staff: [StaffRow] = []
    public var students: [StudentRow] = []
    public var guardians: [GuardianRow] = []
    public var errors: [RowError] = []

    public init() {}

    /// The number of rows read, valid or not.
    public var rowCount: Int { classes.count + staff.count + students.count + guardians.count + errors.count }

    /// Adds one row given as text fields (CSV cells, or JSON values turned to text) and lists.
    mutating func add(_ row: RawRow) {
        do {
            switch row.type {
            case "class":
                classes.append(
                    ClassRow(
                        line: row.line, externalID: try row.externalID(), grade: try Validation.grade(try row.integer("grade")),
                        letter: try Validation.classLetter(try row.text("letter")), year: try Validation.schoolYear(try row.text("year"))
                    )
                )
            case "staff":
                guard let role = Role(rawValue: try row.text("role")), role.isStaff else {
                    throw ZvonokError.invalidArgument("role must be teacher or school_admin")
                }
                let classes = try row.distinctList("classes", each: "class")
                let homeroom = Set(row.list("homeroom"))
                guard homeroom.isSubset(of: classes) else { throw ZvonokError.invalidArgument("a homeroom class must also be in classes") }
                staff.append(
                    StaffRow(
                        line: row.line, externalID: try row.externalID(), name: try Validation.name(try row.text("name")), role: role,
                        classes: classes, homeroom: homeroom, email: try row.email())
                )
            case "student":
                students.append(
                    StudentRow(
                        line: row.line, externalID: try row.externalID(), name: try Validation.name(try row.text("name")),
                        classID: try row.text("class"), email: try row.email())
                )
            case "guardian":
                guardians.append(
                    GuardianRow(
                        line: row.line, externalID: try row.externalID(), name: try Validation.name(try row.text("name")),
                        students: try row.distinctList("students", each: "student"), email: try row.email()
                    )
                )
            default:
                throw ZvonokError.invalidArgument("type must be class, staff, student or guardian")
            }
        } catch let error as ZvonokError {
            errors.append(RowError(line: row.line, message: error.message))
        } catch {
            errors.append(RowError(line: row.line, message: "\(error)"))
        }
    }
}

/// One row before validation: its line (or item number), its type, and its fields as text.
struct RawRow {
    let line: Int
    let type: String
    var fields: [String: String] = [:]
    var lists: [String: [String]] = [:]

    func text(_ field: String) throws(ZvonokError) -> String {
        guard let value = fields[field], !value.isEmpty else { throw .invalidArgument("\(field) is missing") }
        return value
    }

    func integer(_ field: String) throws(ZvonokError) -> Int {
        guard let value = Int(try text(field)) else { throw .invalidArgument("\(field) must be a whole number") }
        return value
    }

    func externalID() throws(ZvonokError) -> String {
        guard let id = try Validation.externalID(try text("externalId")) else { throw .invalidArgument("externalId is missing") }
        return id
    }

    /// The optional `email` column: an address as `Validation.email` takes it, lower-cased; nil when left empty.
    func email() throws(ZvonokError) -> String? {
        try Validation.email(fields["email"] ?? "")
    }

    func list(_ field: String) -> [String] {
        (lists[field] ?? []).map(Validation.trimmed).filter { !$0.isEmpty }
    }

    /// A list that names each item once: a class listed twice for one teacher would be two assignments of the same
    /// pair, which the upload's set-based insert cannot apply.
    func distinctList(_ field: String, each item: String) throws(ZvonokError) -> [String] {
        let items = list(field)
        var seen: Set<String> = []
        if let twice = items.first(where: { !seen.insert($0).inserted }) { throw .invalidArgument("\(item) \(twice) is listed twice") }
        return items
    }
}
