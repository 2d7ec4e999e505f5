import Foundation
import Logging
import PostgresNIO
import ZvonokCore

extension RosterUpload {
    /// Writes the plan with a few set-based statements, then recomputes the school's chat membership once.
    mutating func apply(inviteLifetime: Duration, on connection: PostgresConnection, logger: Logger) async throws {
        let database = (connection: connection, logger: logger)
        var classIDs = classes.mapValues(\.id)
        if !newClasses.isEmpty {
            let rows = try await connection.query(
                """
                INSERT INTO classes (school_id, grade, letter, year, external_id)
                SELECT \(school.id), u.grade, u.letter, u.year, u.external_id
                FROM unnest(\(newClasses.map(\.grade))::smallint[], \(newClasses.map(\.letter))::text[], \(newClasses.map(\.year))::text[],
                            \(newClasses.map(\.externalID))::text[]) AS u (grade, letter, year, external_id)
                RETURNING id, external_id
                """,
                logger: logger
            )
            var created: [Int64] = []
            for try await (id, external) in rows.decode((Int64, String).self) {
                classIDs[external] = id
                created.append(id)
            }
            try await StructureStore.createClassChats(for: created, in: school, on: connection, logger: logger)
        }
        if !changedClasses.isEmpty {
            let ids = changedClasses.map(\.id)
            try await connection.query(
                """
                UPDATE classes c SET grade = u.grade, letter = u.letter, year = u.year, external_id = u.external_id
                FROM unnest(\(ids)::bigint[], \(changedClasses.map(\.row.grade))::smallint[], \(changedClasses.map(\.row.letter))::text[],
                            \(changedClasses.map(\.row.year))::text[], \(changedClasses.map(\.row.externalID))::text[])
                     AS u (id, grade, letter, year, external_id)
                WHERE c.id = u.id
                """,
                logger: logger
            )
            try await StructureStore.retitleClassChats(of: ids, on: connection, logger: logger)
        }
        var personIDs = people.mapValues(\.id)
        let created = plannedPeople.filter(\.isNew)
        if !created.isEmpty {
            let rows = try await connection.query(
                """
                INSERT INTO people (role, name, external_id, region_code, municipality_id, school_id, class_id, email)
                SELECT u.role, u.name, u.external_id, \(school.regionCode), \(school.municipalityID), \(school.id), NULLIF(u.class_id, 0), NULLIF(u.email, '')
                FROM unnest(\(created.map(\.role.rawValue))::text[], \(created.map(\.name))::text[], \(created.map(\.externalID))::text[],
                            \(created.map { $0.classExternalID.flatMap { classIDs[$0] } ?? 0 })::bigint[], \(created.map { $0.email ?? "" })::text[])
                     AS u (role, name, external_id, class_id, email)
                RETURNING id, external_id
                """,
                logger: logger
            )
            for try await (id, external) in rows.decode((Int64, String).self) { personIDs[external] = id }
        }
        let changed = plannedPeople.filter { !$0.isNew && $0.isChanged }
        if !changed.isEmpty {
            try await connection.query(
                """
                UPDATE people p SET role = u.role, name = u.name, class_id = NULLIF(u.class_id, 0), removed_at = NULL,
                                    email = coalesce(NULLIF(u.email, ''), p.email)
                FROM unnest(\(changed.map { personIDs[$0.externalID] ?? 0 })::bigint[], \(changed.map(\.role.rawValue))::text[],
                            \(changed.map(\.name))::text[], \(changed.map { $0.classExternalID.flatMap { classIDs[$0] } ?? 0 })::bigint[],
                            \(changed.map { $0.email ?? "" })::text[])
                     AS u (id, role, name, class_id, email)
                WHERE p.id = u.id
                """,
                logger: logger
            )
        }
        try await replaceAssignments(classIDs: classIDs, personIDs: personIDs, database)
        try await replaceGuardianships(personIDs: personIDs, database)
        try await issueInvites(for: created, personIDs: personIDs, lifetime: inviteLifetime, database)
        outcome.changes = try await syncMembership(database)
    }

    private func replaceAssignments(
        classIDs: [String: Int64], personIDs: [String: Int64], _ database: (connection: PostgresConnection, logger: Logger)
    ) async throws {
        let staff = plannedPeople.filter { $0.role.isStaff && $0.linksChanged }
        guard !staff.isEmpty else { return }
        let staffIDs = staff.map { personIDs[$0.externalID] ?? 0 }
        let rows = staff.flatMap { person in person.classes.map { (classIDs[$0.0] ?? 0, personIDs[person.externalID] ?? 0, $0.1) } }
        try await database.connection.query("DELETE FROM class_teachers WHERE person_id = ANY (\(staffIDs))", logger: database.logger)
        // A class has one homeroom teacher: one named in the roster steps down whoever held it before.
        let homeroomClasses = rows.filter(\.2).map(\.0)
        try await database.connection.query(
            "UPDATE class_teachers SET homeroom = false WHERE homeroom AND class_id = ANY (\(homeroomClasses))",
            logger: database.logger
        )
        try await database.connection.query(
            """
            INSERT INTO class_teachers (class_id, person_id, homeroom)
            SELECT * FROM unnest(\(rows.map(\.0))::bigint[], \(rows.map(\.1))::bigint[], \(rows.map(\.2))::boolean[])
            ON CONFLICT (class_id, person_id) DO UPDATE SET homeroom = EXCLUDED.homeroom
            """,
            logger: database.logger
        )
    }

    private func replaceGuardianships(personIDs: [String: Int64], _ database: (connection: PostgresConnection, logger: Logger)) async throws {
        let guardians = plannedPeople.filter { $0.role == .guardian && $0.linksChanged }
        guard !guardians.isEmpty else { return }
        let links = guardians.flatMap { guardian in guardian.students.map { (personIDs[guardian.externalID] ?? 0, personIDs[$0] ?? 0) } }
        try await database.connection.query(
            "DELETE FROM guardianships WHERE guardian_id = ANY (\(guardians.map { personIDs[$0.externalID] ?? 0 }))",
            logger: database.logger
        )
        try await database.connection.query(
            """
            INSERT INTO guardianships (guardian_id, student_id)
            SELECT * FROM unnest(\(links.map(\.0))::bigint[], \(links.map(\.1))::bigint[]) ON CONFLICT DO NOTHING
            """,
            logger: database.logger
        )
    }

    private mutating func issueInvites(
        for created: [PlannedPerson], personIDs: [String: Int64], lifetime: Duration, _ database: (connection: PostgresConnection, logger: Logger)
    ) async throws {
        guard !created.isEmpty else { return }
        let ids = created.map { personIDs[$0.externalID] ?? 0 }
        let codes = try await CredentialStore.issueInvites(to: ids, lifetime: lifetime, on: database.connection, logger: database.logger)
        outcome.invites = zip(created, zip(ids, codes)).map { (externalID: $0.externalID, personID: $1.0, code: $1.1) }
    }

    private func syncMembership(_ database: (connection: PostgresConnection, logger: Logger)) async throws -> [MembershipChange] {
        var changes = try await PeopleStore.syncSchool(school.id, on: database.connection, logger: database.logger)
        if plannedPeople.contains(where: { $0.role == .schoolAdmin && ($0.isChanged || $0.isNew) }) {
            changes += try await PeopleStore.syncMunicipality(school.municipalityID, on: database.connection, logger: database.logger)
        }
        return changes
    }
}
