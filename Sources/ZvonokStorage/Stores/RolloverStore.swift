import Foundation
import Logging
import PostgresNIO
public import ZvonokCore

/// The rollover of a school into the next school year (issue 20), planned and applied in one transaction.
///
/// The school's row is locked first, so two rollovers of one school (two admins, two nodes) take turns and the second
/// finds the classes already in the new year: its plan is empty and it changes nothing, not even the audit log. The
/// plan is read from the same snapshot the changes are then made to, so a dry run answers exactly what applying
/// changes.
public struct RolloverStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// A rollover as planned and, unless a dry run, applied; with the membership changes open connections follow.
    public struct Outcome: Sendable {
        public let plan: RolloverPlan
        public let changes: [MembershipChange]
    }

    /// Plans the rollover of `school` and applies it unless `dryRun`. Graduated classes' chats stay readable for their
    /// members for `archiveReadable`. 409 when a class cannot move up because its new name is taken in the new year.
    public func rollover(
        _ school: School, _ request: RolloverRequest, dryRun: Bool, archiveReadable: Duration, by actor: Identity
    ) async throws -> Outcome {
        try await database.transaction { connection in
            let logger = database.logger
            try await connection.query("SELECT 1 FROM schools WHERE id = \(school.id) FOR UPDATE", logger: logger)
            let plan = try await Self.plan(school, request, on: connection, logger: logger)
            guard !dryRun, !plan.isEmpty else { return Outcome(plan: plan, changes: []) }
            try await Self.apply(plan, archiveReadable: archiveReadable, on: connection, logger: logger)
            let changes = try await PeopleStore.syncSchool(school.id, on: connection, logger: logger)
            try await AuditTrail.record(
                actor, "school.rollover", object: PublicID.encode(.school, school.id), at: school.placement,
                details: Self.auditDetails(plan), on: connection, logger: logger)
            return Outcome(plan: plan, changes: changes)
        }
    }

    // MARK: Planning

    static func plan(_ school: School, _ request: RolloverRequest, on connection: PostgresConnection, logger: Logger) async throws -> RolloverPlan {
        var plan = RolloverPlan(schoolID: school.id, from: request.from, to: request.to)
        let graduating = request.graduatingGrades.sorted()
        let classes = try await connection.query(
            """
            SELECT id, grade::int, letter, grade = ANY (\(graduating)::int[]) FROM classes
            WHERE school_id = \(school.id) AND year = \(request.from) AND removed_at IS NULL ORDER BY grade, letter, id
            """,
            logger: logger)
        for try await (id, grade, letter, leaves) in classes.decode((Int64, Int, String, Bool).self) {
            if leaves {
                plan.graduated.append(.init(id: id, name: "\(grade)\(letter)"))
            } else {
                plan.promoted.append(.init(classID: id, from: "\(grade)\(letter)", to: "\(grade + 1)\(letter)"))
            }
        }
        guard !plan.isEmpty else { return plan }
        try await refuseTakenNames(plan, on: connection, logger: logger)
        plan.leaving = try await leavers(of: plan.graduated.map(\.id), in: school.id, on: connection, logger: logger)
        plan.archivedChats = try await archivedChats(of: plan.graduated.map(\.id), on: connection, logger: logger)
        plan.clearedAssignments = try await clearedAssignments(of: plan.promoted.map(\.classID), on: connection, logger: logger)
        return plan
    }

    /// 409 when a class of the new year already holds the name a promoted class would take.
    private static func refuseTakenNames(_ plan: RolloverPlan, on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(
            """
            SELECT grade::int, letter FROM classes
            WHERE school_id = \(plan.schoolID) AND year = \(plan.to) AND removed_at IS NULL
              AND (grade - 1, letter) IN (SELECT grade, letter FROM classes WHERE id = ANY (\(plan.promoted.map(\.classID))))
            ORDER BY grade, letter
            """,
            logger: logger)
        var taken: [String] = []
        for try await (grade, letter) in rows.decode((Int, String).self) { taken.append("\(grade)\(letter)") }
        guard taken.isEmpty else {
            throw ZvonokError.conflict(
                "\(plan.to) already has \(taken.joined(separator: ", ")): rename or remove those classes, then roll the school over")
        }
    }

    /// The graduating classes' students, and their guardians who have no other child staying in the school.
    private static func leavers(
        of classIDs: [Int64], in schoolID: Int64, on connection: PostgresConnection, logger: Logger
    ) async throws
        -> [RolloverPlan.Leaver]
    {
        try await items(
            """
            WITH students AS (
                SELECT id FROM people WHERE class_id = ANY (\(classIDs)) AND role = 'student' AND removed_at IS NULL
            )
            SELECT p.id, p.name, p.role FROM people p WHERE p.id IN (SELECT id FROM students)
            UNION ALL
            SELECT p.id, p.name, p.role FROM people p
            WHERE p.removed_at IS NULL AND p.id IN (SELECT g.guardian_id FROM guardianships g WHERE g.student_id IN (SELECT id FROM students))
              AND NOT EXISTS (SELECT 1 FROM guardianships g JOIN people s ON s.id = g.student_id
                              WHERE g.guardian_id = p.id AND s.school_id = \(schoolID) AND s.removed_at IS NULL
                                AND s.id NOT IN (SELECT id FROM students))
            ORDER BY 3 DESC, 1
            """,
            on: connection, logger: logger
        ) { row in
            let (id, name, role) = try row.decode((Int64, String, String).self)
            return .init(personID: id, name: name, role: Role(rawValue: role) ?? .student)
        }
    }

    private static func archivedChats(
        of classIDs: [Int64], on connection: PostgresConnection, logger: Logger
    ) async throws
        -> [RolloverPlan.Named]
    {
        try await items(
            "SELECT id, title FROM chats WHERE class_id = ANY (\(classIDs)) AND archived_at IS NULL ORDER BY id",
            on: connection, logger: logger
        ) { row in
            let (id, title) = try row.decode((Int64, String).self)
            return .init(id: id, name: title)
        }
    }

    private static func clearedAssignments(
        of classIDs: [Int64], on connection: PostgresConnection, logger: Logger
    ) async throws
        -> [RolloverPlan.ClearedAssignment]
    {
        try await items(
            """
            SELECT ct.class_id, ct.person_id FROM class_teachers ct JOIN people p ON p.id = ct.person_id AND p.removed_at IS NULL
            WHERE ct.class_id = ANY (\(classIDs)) AND NOT ct.homeroom ORDER BY 1, 2
            """,
            on: connection, logger: logger
        ) { row in
            let (schoolClass, staff) = try row.decode((Int64, Int64).self)
            return .init(classID: schoolClass, staffID: staff)
        }
    }

    /// Each row of `query` made into an item.
    private static func items<Item>(
        _ query: PostgresQuery, on connection: PostgresConnection, logger: Logger, _ item: (PostgresRow) throws -> Item
    ) async throws -> [Item] {
        var items: [Item] = []
        for try await row in try await connection.query(query, logger: logger) { items.append(try item(row)) }
        return items
    }

    // MARK: Applying

    /// Makes the plan's changes: promoted classes move up (their chats' titles follow, as on a rename), graduated
    /// classes leave the structure with their chats archived, leavers leave, non-homeroom assignments go.
    private static func apply(_ plan: RolloverPlan, archiveReadable: Duration, on connection: PostgresConnection, logger: Logger) async throws {
        let promoted = plan.promoted.map(\.classID)
        let graduated = plan.graduated.map(\.id)
        try await connection.query(
            "UPDATE classes SET grade = grade + 1, year = \(plan.to) WHERE id = ANY (\(promoted))", logger: logger)
        try await StructureStore.retitleClassChats(of: promoted, on: connection, logger: logger)
        try await connection.query(
            "DELETE FROM class_teachers WHERE class_id = ANY (\(promoted)) AND NOT homeroom", logger: logger)
        let readableSeconds = Double(archiveReadable.components.seconds)
        try await connection.query(
            """
            UPDATE chats SET archived_at = now(), readable_until = now() + make_interval(secs => \(readableSeconds))
            WHERE id = ANY (\(plan.archivedChats.map(\.id)))
            """,
            logger: logger)
        try await connection.query("UPDATE classes SET removed_at = now() WHERE id = ANY (\(graduated))", logger: logger)
        try await connection.query("DELETE FROM class_teachers WHERE class_id = ANY (\(graduated))", logger: logger)
        try await PeopleStore.leave(plan.leaving.map(\.personID), on: connection, logger: logger)
    }

    static func auditDetails(_ plan: RolloverPlan) -> [String: AuditEntry.Value] {
        [
            "from": .text(plan.from), "to": .text(plan.to), "classesPromoted": .number(plan.promoted.count),
            "classesGraduated": .number(plan.graduated.count), "peopleLeaving": .number(plan.leaving.count),
            "chatsArchived": .number(plan.archivedChats.count), "assignmentsCleared": .number(plan.clearedAssignments.count),
        ]
    }
}
