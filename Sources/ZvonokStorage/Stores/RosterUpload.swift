import Foundation
import Logging
import PostgresNIO
import ZvonokCore

/// One roster upload inside its transaction: the school as it is, the plan of what changes, and the set-based
/// statements that apply it. Planning reads nothing and writes nothing, so an atomic upload can stop before writing.
struct RosterUpload {
    struct ExistingClass {
        let id: Int64
        let grade: Int
        let letter: String
        let year: String
    }

    struct ExistingPerson {
        let id: Int64
        let role: Role
        let name: String
        let classID: Int64?
        let removed: Bool
        let email: String?
    }

    /// A person row that passed every check, with what it asks for.
    struct PlannedPerson {
        let externalID: String
        let role: Role
        let name: String
        let classExternalID: String?
        /// Staff: (class external id, homeroom). Guardians: nothing.
        let classes: [(String, Bool)]
        /// Guardians: students' external ids.
        let students: [String]
        /// Set when stated; a roster never clears an address (one set through the API stays).
        let email: String?
        let isNew: Bool
        let isChanged: Bool
        let linksChanged: Bool
    }

    let school: School
    var classes: [String: ExistingClass] = [:]
    /// Classes made one by one through the API, without an external id, by "year|grade|letter": a roster naming
    /// the same class adopts them rather than colliding.
    var unlabeledClasses: [String: Int64] = [:]
    var people: [String: ExistingPerson] = [:]
    var assignments: [Int64: [Int64: Bool]] = [:]
    var links: [Int64: Set<Int64>] = [:]

    var newClasses: [Roster.ClassRow] = []
    var changedClasses: [(id: Int64, row: Roster.ClassRow)] = []
    var plannedPeople: [PlannedPerson] = []
    var outcome = RosterStore.Outcome()

    // MARK: Loading

    static func load(school: School, on connection: PostgresConnection, logger: Logger) async throws -> RosterUpload {
        var upload = RosterUpload(school: school)
        let classRows = try await connection.query(
            "SELECT id, external_id, grade::int, letter, year FROM classes WHERE school_id = \(school.id) AND removed_at IS NULL",
            logger: logger
        )
        for try await (id, external, grade, letter, year) in classRows.decode((Int64, String?, Int, String, String).self) {
            if let external {
                upload.classes[external] = ExistingClass(id: id, grade: grade, letter: letter, year: year)
            } else {
                upload.unlabeledClasses["\(year)|\(grade)|\(letter)"] = id
            }
        }
        let peopleRows = try await connection.query(
            """
            SELECT id, external_id, role, name, class_id, removed_at IS NOT NULL, email FROM people
            WHERE school_id = \(school.id) AND external_id IS NOT NULL
            """,
            logger: logger
        )
        for try await (id, external, role, name, classID, removed, email) in peopleRows.decode(
            (Int64, String, String, String, Int64?, Bool, String?).self)
        {
            upload.people[external] = ExistingPerson(
                id: id, role: Role(rawValue: role) ?? .student, name: name, classID: classID, removed: removed, email: email)
        }
        let assignmentRows = try await connection.query(
            "SELECT ct.person_id, ct.class_id, ct.homeroom FROM class_teachers ct JOIN classes c ON c.id = ct.class_id WHERE c.school_id = \(school.id) AND c.removed_at IS NULL",
            logger: logger
        )
        for try await (person, schoolClass, homeroom) in assignmentRows.decode((Int64, Int64, Bool).self) {
            upload.assignments[person, default: [:]][schoolClass] = homeroom
        }
        let linkRows = try await connection.query(
            "SELECT g.guardian_id, g.student_id FROM guardianships g JOIN people p ON p.id = g.guardian_id WHERE p.school_id = \(school.id)",
            logger: logger
        )
        for try await (guardian, student) in linkRows.decode((Int64, Int64).self) {
            upload.links[guardian, default: []].insert(student)
        }
        return upload
    }

    // MARK: Planning

    mutating func plan(_ roster: Roster) {
        outcome.errors = roster.errors
        var classKeys = Dictionary(
            classes.map { ("\($0.value.year)|\($0.value.grade)|\($0.value.letter)", $0.key) }, uniquingKeysWith: { first, _ in first })
        var seenClasses: Set<String> = []
        for row in roster.classes {
            let key = "\(row.year)|\(row.grade)|\(row.letter)"
            if !seenClasses.insert(row.externalID).inserted {
                refuse(row.line, "externalId \(row.externalID) appears twice in the roster")
            } else if let holder = classKeys[key], holder != row.externalID {
                refuse(row.line, "class \(row.grade)\(row.letter) \(row.year) already exists with externalId \(holder)")
            } else if let existing = classes[row.externalID] {
                classKeys["\(existing.year)|\(existing.grade)|\(existing.letter)"] = nil
                classKeys[key] = row.externalID
                if existing.grade == row.grade, existing.letter == row.letter, existing.year == row.year {
                    count(.unchanged, row.line, row.externalID)
                } else {
                    changedClasses.append((existing.id, row))
                    count(.updated, row.line, row.externalID)
                }
            } else if let adopted = unlabeledClasses.removeValue(forKey: key) {
                classKeys[key] = row.externalID
                classes[row.externalID] = ExistingClass(id: adopted, grade: row.grade, letter: row.letter, year: row.year)
                changedClasses.append((adopted, row))
                count(.updated, row.line, row.externalID)
            } else {
                classKeys[key] = row.externalID
                newClasses.append(row)
                count(.created, row.line, row.externalID)
            }
        }
        let knownClasses = Set(classes.keys).union(newClasses.map(\.externalID))
        var seenPeople: Set<String> = []
        var homeroomClaims: [String: String] = [:]
        for row in roster.staff {
            guard claim(row.externalID, line: row.line, seen: &seenPeople, role: row.role) else { continue }
            if let unknown = row.classes.first(where: { !knownClasses.contains($0) }) {
                refuse(row.line, "unknown class \(unknown)")
                continue
            }
            if let taken = row.homeroom.first(where: { homeroomClaims[$0] != nil }) {
                refuse(row.line, "class \(taken) already has a homeroom teacher in this roster (\(homeroomClaims[taken]!))")
                continue
            }
            for schoolClass in row.homeroom { homeroomClaims[schoolClass] = row.externalID }
            let wanted = row.classes.map { ($0, row.homeroom.contains($0)) }
            planPerson(
                row.externalID, line: row.line, role: row.role, name: row.name, email: row.email, classExternalID: nil, classes: wanted,
                students: [])
        }
        var knownStudents = Set(people.filter { $0.value.role == .student && !$0.value.removed }.keys)
        for row in roster.students {
            guard claim(row.externalID, line: row.line, seen: &seenPeople, role: .student) else { continue }
            guard knownClasses.contains(row.classID) else {
                refuse(row.line, "unknown class \(row.classID)")
                continue
            }
            knownStudents.insert(row.externalID)
            planPerson(
                row.externalID, line: row.line, role: .student, name: row.name, email: row.email, classExternalID: row.classID, classes: [],
                students: [])
        }
        for row in roster.guardians {
            guard claim(row.externalID, line: row.line, seen: &seenPeople, role: .guardian) else { continue }
            if let unknown = row.students.first(where: { !knownStudents.contains($0) }) {
                refuse(row.line, "unknown student \(unknown)")
                continue
            }
            planPerson(
                row.externalID, line: row.line, role: .guardian, name: row.name, email: row.email, classExternalID: nil, classes: [],
                students: row.students)
        }
        outcome.errors.sort { $0.line < $1.line }
        outcome.rows.sort { $0.line < $1.line }
    }

    /// Counts an accepted row and notes what happens to it.
    private mutating func count(_ action: RosterStore.RowAction, _ line: Int, _ externalID: String) {
        switch action {
        case .created: outcome.created += 1
        case .updated: outcome.updated += 1
        case .unchanged: outcome.unchanged += 1
        }
        outcome.rows.append((line, externalID, action))
    }

    /// Checks that a person's external id is used once in the roster and, if the person exists, for the same kind.
    private mutating func claim(_ externalID: String, line: Int, seen: inout Set<String>, role: Role) -> Bool {
        guard seen.insert(externalID).inserted else {
            refuse(line, "externalId \(externalID) appears twice in the roster")
            return false
        }
        if let existing = people[externalID], existing.role.isStaff != role.isStaff || (!role.isStaff && existing.role != role) {
            refuse(line, "externalId \(externalID) belongs to a \(existing.role.rawValue) of this school")
            return false
        }
        return true
    }

    private mutating func planPerson(
        _ externalID: String, line: Int, role: Role, name: String, email: String?, classExternalID: String?,
        classes wanted: [(String, Bool)], students: [String]
    ) {
        guard let existing = people[externalID] else {
            plannedPeople.append(
                PlannedPerson(
                    externalID: externalID, role: role, name: name, classExternalID: classExternalID, classes: wanted, students: students,
                    email: email, isNew: true, isChanged: true, linksChanged: true))
            count(.created, line, externalID)
            return
        }
        let classID = classExternalID.flatMap { classes[$0]?.id }
        let fieldsChanged =
            existing.role != role || existing.name != name || existing.removed || (email != nil && email != existing.email)
            || (role == .student && (classID == nil || classID != existing.classID))
        let linksChanged: Bool
        switch role {
        case .guardian:
            let wantedStudents = students.map { people[$0]?.id }
            linksChanged = wantedStudents.contains(nil) || Set(wantedStudents.compactMap { $0 }) != (links[existing.id] ?? [])
        case .teacher, .schoolAdmin:
            let wantedClasses = wanted.map { (classes[$0.0]?.id, $0.1) }
            linksChanged =
                wantedClasses.contains { $0.0 == nil }
                || Dictionary(wantedClasses.map { ($0.0!, $0.1) }, uniquingKeysWith: { $0 || $1 }) != (assignments[existing.id] ?? [:])
        default:
            linksChanged = false
        }
        plannedPeople.append(
            PlannedPerson(
                externalID: externalID, role: role, name: name, classExternalID: classExternalID, classes: wanted, students: students,
                email: email, isNew: false, isChanged: fieldsChanged, linksChanged: linksChanged))
        count(fieldsChanged || linksChanged ? .updated : .unchanged, line, externalID)
    }

    private mutating func refuse(_ line: Int, _ message: String) {
        outcome.errors.append(Roster.RowError(line: line, message: message))
    }
}
