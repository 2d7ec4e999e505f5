/// What the rollover of one school from one school year to the next does (issue 20): classes that move up a grade,
/// classes that graduate, people who leave with them, chats archived and teacher assignments cleared. A dry run
/// answers it without changing anything; applying it changes exactly this, so the two are equal.
public struct RolloverPlan: Sendable, Equatable {
    /// A class that moves up one grade into the new year, keeping its id, chats and history.
    public struct Promotion: Sendable, Equatable {
        public let classID: Int64
        public let from: String
        public let to: String

        public init(classID: Int64, from: String, to: String) {
            self.classID = classID
            self.from = from
            self.to = to
        }
    }

    /// A graduating class (its name, as 11А) or one of its chats (its title), by id.
    public struct Named: Sendable, Equatable {
        public let id: Int64
        public let name: String

        public init(id: Int64, name: String) {
            self.id = id
            self.name = name
        }
    }

    /// A student of a graduating class, or a guardian with no other child staying in the school.
    public struct Leaver: Sendable, Equatable {
        public let personID: Int64
        public let name: String
        public let role: Role

        public init(personID: Int64, name: String, role: Role) {
            self.personID = personID
            self.name = name
            self.role = role
        }
    }

    /// A teacher's assignment to a promoted class other than as its homeroom teacher: the new timetable sets it anew.
    public struct ClearedAssignment: Sendable, Equatable {
        public let classID: Int64
        public let staffID: Int64

        public init(classID: Int64, staffID: Int64) {
            self.classID = classID
            self.staffID = staffID
        }
    }

    public let schoolID: Int64
    public let from: String
    public let to: String
    public var promoted: [Promotion] = []
    /// Classes of a leaving grade: removed from the structure.
    public var graduated: [Named] = []
    public var leaving: [Leaver] = []
    /// The graduating classes' chats, archived: readable by their members for a while, open to no new message.
    public var archivedChats: [Named] = []
    public var clearedAssignments: [ClearedAssignment] = []

    public init(schoolID: Int64, from: String, to: String) {
        self.schoolID = schoolID
        self.from = from
        self.to = to
    }

    /// True when the school has no class of the `from` year left: a rollover already applied, or nothing to do.
    public var isEmpty: Bool { promoted.isEmpty && graduated.isEmpty }
}

/// What a rollover is asked for: the two school years and the grades that leave the school.
public struct RolloverRequest: Sendable, Equatable {
    public let from: String
    public let to: String
    /// Grades whose classes graduate rather than move up: 11 always, 9 where the school says its ninth grade leaves.
    public let graduatingGrades: Set<Int>

    /// Checks that `to` is the year right after `from` and that the graduating grades are grades.
    public init(from: String, to: String, graduatingGrades: [Int]?) throws(ZvonokError) {
        let from = try Validation.schoolYear(from)
        let to = try Validation.schoolYear(to)
        guard to.prefix(4) == from.suffix(4) else {
            throw .invalidArgument("to must be the school year right after from, such as 2026/2027 → 2027/2028")
        }
        let grades = Set(graduatingGrades ?? [11])
        guard grades.contains(11), grades.allSatisfy({ (1...11).contains($0) }) else {
            throw .invalidArgument("graduatingGrades are grades 1–11 and include 11")
        }
        self.from = from
        self.to = to
        self.graduatingGrades = grades
    }
}
