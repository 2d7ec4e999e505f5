import Foundation
import Logging
import PostgresNIO
public import ZvonokCore

/// People: created by admins with an invite, assigned to classes, linked to students, moved and removed — with
/// chat membership recomputed in the same transaction (contract §1, §4).
public struct PeopleStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Someone an admin is adding, anchored where they belong.
    public struct NewPerson: Sendable {
        public var role: Role
        public var name: String
        public var externalID: String?
        public var regionCode: String
        public var municipalityID: Int64?
        public var schoolID: Int64?
        public var classID: Int64?
        /// For a guardian: the student they are linked to.
        public var studentID: Int64?

        public init(role: Role, name: String, externalID: String?, placement: Placement, classID: Int64? = nil, studentID: Int64? = nil) {
            self.role = role
            self.name = name
            self.externalID = externalID
            self.regionCode = placement.regionCode
            self.municipalityID = placement.municipalityID
            self.schoolID = placement.schoolID
            self.classID = classID
            self.studentID = studentID
        }
    }

    /// What creating a person gives back: the person, their first invite code (the only time it is in clear), and
    /// the chats they joined.
    public struct Created: Sendable {
        public let person: Person
        public let inviteCode: String
        public let changes: [MembershipChange]
    }

    public func create(_ new: NewPerson, inviteLifetime: Duration, by actor: Identity) async throws -> Created {
        try await database.transaction { connection in
            let rows = try await connection.query(
                """
                INSERT INTO people (role, name, external_id, region_code, municipality_id, school_id, class_id)
                VALUES (\(new.role.rawValue), \(new.name), \(new.externalID), \(new.regionCode), \(new.municipalityID), \(new.schoolID), \(new.classID))
                RETURNING id
                """,
                logger: database.logger
            )
            let id = try await rows.decode(Int64.self).first { _ in true } ?? 0
            if let student = new.studentID {
                try await connection.query("INSERT INTO guardianships (guardian_id, student_id) VALUES (\(id), \(student))", logger: database.logger)
            }
            let code = try await CredentialStore.issueInvites(to: [id], lifetime: inviteLifetime, on: connection, logger: database.logger)[0]
            let person = Person(
                id: id, role: new.role, name: new.name, externalID: new.externalID, regionCode: new.regionCode,
                municipalityID: new.municipalityID, schoolID: new.schoolID, classID: new.classID, registeredAt: nil
            )
            let changes = try await Self.syncMembership(around: person, on: connection, database: database)
            var details: [String: AuditEntry.Value] = ["role": .text(new.role.rawValue), "name": .text(new.name)]
            details["externalId"] = new.externalID.map(AuditEntry.Value.text)
            details["classId"] = new.classID.map { .text(PublicID.encode(.class, $0)) }
            details["studentId"] = new.studentID.map { .text(PublicID.encode(.person, $0)) }
            try await AuditTrail.record(
                actor, "person.create", object: PublicID.encode(.person, id), at: person.placement, details: details, on: connection,
                logger: database.logger)
            return Created(person: person, inviteCode: code, changes: changes)
        }
    }

    /// Voids the person's unused invites and their tokens, and issues a fresh code: a new invite is for a lost or
    /// handed-on phone, whose session must end.
    public func reissueInvite(to person: Person, lifetime: Duration, by actor: Identity) async throws -> String {
        try await database.transaction { connection in
            try await Self.voidInvites(of: person.id, on: connection, logger: database.logger)
            let revoked = try await CredentialStore.revokeAll(of: person.id, on: connection, logger: database.logger)
            let code = try await CredentialStore.issueInvites(to: [person.id], lifetime: lifetime, on: connection, logger: database.logger)[0]
            try await AuditTrail.record(
                actor, "person.invite", object: PublicID.encode(.person, person.id), at: person.placement,
                details: ["tokensRevoked": .number(revoked)], on: connection, logger: database.logger
            )
            return code
        }
    }

    private static func voidInvites(of personID: Int64, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "UPDATE invites SET voided_at = now() WHERE person_id = \(personID) AND used_at IS NULL AND voided_at IS NULL",
            logger: logger
        )
    }

    /// Assigns a staff member to a class (or changes whether they are its homeroom teacher; a class has at most one,
    /// so naming a new one steps the previous one down). Returns whether the assignment is new, and the chat changes.
    public func assignTeacher(
        _ staff: Person, to schoolClass: SchoolClass, homeroom: Bool, school: School, by actor: Identity
    ) async throws -> (created: Bool, changes: [MembershipChange]) {
        try await database.transaction { connection in
            if homeroom {
                try await connection.query(
                    "UPDATE class_teachers SET homeroom = false WHERE class_id = \(schoolClass.id) AND person_id <> \(staff.id) AND homeroom",
                    logger: database.logger
                )
            }
            let rows = try await connection.query(
                """
                INSERT INTO class_teachers (class_id, person_id, homeroom) VALUES (\(schoolClass.id), \(staff.id), \(homeroom))
                ON CONFLICT (class_id, person_id) DO UPDATE SET homeroom = EXCLUDED.homeroom
                RETURNING (xmax = 0)
                """,
                logger: database.logger
            )
            let created = try await rows.decode(Bool.self).first { _ in true } ?? false
            let changes = try await Self.syncSchool(school.id, on: connection, logger: database.logger)
            try await AuditTrail.record(
                actor, "class.assign_teacher", object: PublicID.encode(.person, staff.id), at: school.placement,
                details: ["classId": .text(PublicID.encode(.class, schoolClass.id)), "homeroom": .flag(homeroom)], on: connection,
                logger: database.logger
            )
            return (created, changes)
        }
    }

    /// Takes a staff member off a class.
    public func unassignTeacher(_ staff: Person, from schoolClass: SchoolClass, school: School, by actor: Identity) async throws -> [MembershipChange]
    {
        try await database.transaction { connection in
            try await connection.query(
                "DELETE FROM class_teachers WHERE class_id = \(schoolClass.id) AND person_id = \(staff.id)",
                logger: database.logger
            )
            let changes = try await Self.syncSchool(school.id, on: connection, logger: database.logger)
            try await AuditTrail.record(
                actor, "class.unassign_teacher", object: PublicID.encode(.person, staff.id), at: school.placement,
                details: ["classId": .text(PublicID.encode(.class, schoolClass.id))], on: connection, logger: database.logger
            )
            return changes
        }
    }

    /// Moves a student to another class of the same school: they leave the old class's chats and join the new one's,
    /// and so do their guardians.
    public func moveStudent(_ student: Person, to schoolClass: SchoolClass, by actor: Identity) async throws -> [MembershipChange] {
        try await database.transaction { connection in
            try await connection.query("UPDATE people SET class_id = \(schoolClass.id) WHERE id = \(student.id)", logger: database.logger)
            let changes = try await Self.syncSchool(schoolClass.schoolID, on: connection, logger: database.logger)
            var details: [String: AuditEntry.Value] = ["toClassId": .text(PublicID.encode(.class, schoolClass.id))]
            details["fromClassId"] = student.classID.map { .text(PublicID.encode(.class, $0)) }
            try await AuditTrail.record(
                actor, "student.move", object: PublicID.encode(.person, student.id), at: student.placement, details: details, on: connection,
                logger: database.logger)
            return changes
        }
    }

    /// Renames a person.
    public func rename(_ person: Person, to name: String, by actor: Identity) async throws {
        try await database.transaction { connection in
            try await connection.query("UPDATE people SET name = \(name) WHERE id = \(person.id)", logger: database.logger)
            try await AuditTrail.record(
                actor, "person.rename", object: PublicID.encode(.person, person.id), at: person.placement,
                details: ["from": .text(person.name), "to": .text(name)], on: connection, logger: database.logger
            )
        }
    }

    /// Removes a person: their tokens and invites stop working, they leave every chat of the structure, and their
    /// direct chats are archived — the other person keeps the history, and nobody posts there any more.
    public func remove(_ person: Person, by actor: Identity) async throws -> [MembershipChange] {
        try await database.transaction { connection in
            try await Self.leave([person.id], on: connection, logger: database.logger)
            let changes = try await Self.syncMembership(around: person, on: connection, database: database)
            try await AuditTrail.record(
                actor, "person.remove", object: PublicID.encode(.person, person.id), at: person.placement,
                details: ["role": .text(person.role.rawValue), "name": .text(person.name)], on: connection, logger: database.logger
            )
            return changes
        }
    }

    /// People leave the structure (removed, or graduated in a rollover): `removed_at` set, tokens revoked, invites
    /// voided, direct chats archived. Their chats of the structure follow when the caller syncs the membership.
    static func leave(_ personIDs: [Int64], on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("UPDATE people SET removed_at = now() WHERE id = ANY (\(personIDs)) AND removed_at IS NULL", logger: logger)
        try await connection.query(
            "UPDATE tokens SET revoked_at = now() WHERE person_id = ANY (\(personIDs)) AND revoked_at IS NULL", logger: logger)
        try await connection.query(
            "UPDATE invites SET voided_at = now() WHERE person_id = ANY (\(personIDs)) AND used_at IS NULL AND voided_at IS NULL", logger: logger)
        try await connection.query(
            """
            UPDATE chats SET archived_at = now()
            WHERE kind = 'direct' AND archived_at IS NULL AND id IN (SELECT chat_id FROM chat_members WHERE person_id = ANY (\(personIDs)))
            """,
            logger: logger
        )
    }

    // MARK: Reading

    /// The columns `person(_:…)` reads, from `people p`.
    static let columns = "p.id, p.role, p.name, p.external_id, p.region_code, p.municipality_id, p.school_id, p.class_id, p.registered_at"

    /// A person who has not been removed.
    public func person(id: Int64) async throws -> Person? {
        try await people(
            PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM people p WHERE p.id = $1 AND p.removed_at IS NULL", binds: try binds(id))
        ).first
    }

    /// A person removed or not, but not erased: whom an erasure or an export may still name.
    public func personNotErased(id: Int64) async throws -> Person? {
        try await people(
            PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM people p WHERE p.id = $1 AND p.erased_at IS NULL", binds: try binds(id))
        ).first
    }

    /// The groups of people the API lists.
    public enum Group: Sendable {
        case staff(schoolID: Int64)
        case students(classID: Int64)
        case guardians(studentID: Int64)
        case regionalAdmins(regionCode: String)
        case municipalAdmins(municipalityID: Int64)
    }

    public func people(in group: Group, after: Int64, limit: Int) async throws -> [Person] {
        let (condition, key): (String, any PostgresEncodable & Sendable) =
            switch group {
            case .staff(let school): ("p.school_id = $1 AND p.role IN ('school_admin', 'teacher')", school)
            case .students(let schoolClass): ("p.class_id = $1", schoolClass)
            case .guardians(let student): ("p.id IN (SELECT guardian_id FROM guardianships WHERE student_id = $1)", student)
            case .regionalAdmins(let region): ("p.region_code = $1 AND p.role = 'regional_admin'", region)
            case .municipalAdmins(let municipality): ("p.municipality_id = $1 AND p.role = 'municipal_admin'", municipality)
            }
        return try await people(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.columns) FROM people p WHERE \(condition) AND p.removed_at IS NULL AND p.id > $2 ORDER BY p.id LIMIT $3",
                binds: try binds(key, after, limit)
            )
        )
    }

    /// A class's teachers with whether each is its homeroom teacher.
    public func teachers(of schoolClass: SchoolClass, after: Int64, limit: Int) async throws -> [(person: Person, homeroom: Bool)] {
        let rows = try await database.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(Self.columns), ct.homeroom
                    FROM class_teachers ct JOIN people p ON p.id = ct.person_id
                    WHERE ct.class_id = $1 AND p.removed_at IS NULL AND p.id > $2 ORDER BY p.id LIMIT $3
                    """,
                binds: try binds(schoolClass.id, after, limit)
            )
        )
        var result: [(Person, Bool)] = []
        for try await row in rows.decode((Int64, String, String, String?, String?, Int64?, Int64?, Int64?, Date?, Bool).self) {
            result.append((Self.person(row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8), row.9))
        }
        return result
    }

    /// The first person of rows holding `columns`, if any.
    static func firstPerson(of rows: PostgresRowSequence) async throws -> Person? {
        try await people(of: rows).first
    }

    /// The people of rows holding `columns`.
    static func people(of rows: PostgresRowSequence) async throws -> [Person] {
        var result: [Person] = []
        for try await row in rows.decode((Int64, String, String, String?, String?, Int64?, Int64?, Int64?, Date?).self) {
            result.append(person(row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8))
        }
        return result
    }

    private func people(_ query: PostgresQuery) async throws -> [Person] {
        try await Self.people(of: database.query(query))
    }

    static func person(
        _ id: Int64, _ role: String, _ name: String, _ external: String?, _ region: String?, _ municipality: Int64?,
        _ school: Int64?, _ schoolClass: Int64?, _ registered: Date?
    ) -> Person {
        Person(
            id: id, role: Role(rawValue: role) ?? .student, name: name, externalID: external, regionCode: region,
            municipalityID: municipality, schoolID: school, classID: schoolClass, registeredAt: registered
        )
    }

    // MARK: Membership

    /// Recomputes the chats a change to this person can affect: their school's, and their municipality's when they
    /// sit in the municipality chat (municipal and school admins).
    static func syncMembership(around person: Person, on connection: PostgresConnection, database: Database) async throws -> [MembershipChange] {
        var changes: [MembershipChange] = []
        if let school = person.schoolID {
            changes += try await syncSchool(school, on: connection, logger: database.logger)
        }
        if let municipality = person.municipalityID, person.role == .municipalAdmin || person.role == .schoolAdmin {
            changes += try await syncMunicipality(municipality, on: connection, logger: database.logger)
        }
        return changes
    }

    static func syncSchool(_ schoolID: Int64, on connection: PostgresConnection, logger: Logger) async throws -> [MembershipChange] {
        try await membershipChanges(connection.query("SELECT * FROM zvonok_sync_school_members(\(schoolID))", logger: logger))
    }

    static func syncMunicipality(_ municipalityID: Int64, on connection: PostgresConnection, logger: Logger) async throws -> [MembershipChange] {
        try await membershipChanges(connection.query("SELECT * FROM zvonok_sync_municipality_members(\(municipalityID))", logger: logger))
    }

    private static func membershipChanges(_ rows: PostgresRowSequence) async throws -> [MembershipChange] {
        var changes: [MembershipChange] = []
        for try await (chat, person, joined) in rows.decode((Int64, Int64, Bool).self) {
            changes.append(MembershipChange(chatID: chat, personID: person, joined: joined))
        }
        return changes
    }
}
