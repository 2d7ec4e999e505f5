import PostgresNIO
public import ZvonokCore

/// Removing an empty class, school, municipality or region (issue 19).
///
/// A removal is soft: the row gets `removed_at` (sql/011) and stays. Hard deletion is ruled out by the schema: the
/// unit's chats reference it by foreign key, and their history, moderation reports (`message_reports.school_id`)
/// and removed people (`people.class_id`, `school_id`, …) reference those in turn; and the weekly rating counts a
/// school, municipality or region in every week it existed (sql/005, `RatingStore`), so deleting the row would change
/// finished weeks, which are frozen (docs/rating.md). A removed unit is left out of listings, look-ups and the
/// rating from the week of its removal on; its chats are archived (sql/008), so they take no new message.
///
/// Only an empty unit is removed; otherwise the answer is 409 with what must go first. The check and the removal
/// run in one transaction holding the unit's row lock, which an uncommitted insert referencing the unit holds off
/// (its foreign key check takes a share lock on the row), so what was counted is what was there. Not closed: a create
/// that looked the unit up before the removal committed and inserts after it lands in the removed unit (the look-up
/// is not under the lock); the person or class is then out of sight with it, as after any removal.
extension StructureStore {
    public func remove(_ schoolClass: SchoolClass, in school: School, by actor: Identity) async throws {
        try await removing(
            "class.remove", PublicID.encode(.class, schoolClass.id), at: school.placement,
            details: ["name": .text(schoolClass.label), "year": .text(schoolClass.year)],
            lock: "SELECT true FROM classes WHERE id = \(schoolClass.id) AND removed_at IS NULL FOR UPDATE",
            contents: """
                SELECT (SELECT count(*) FROM people WHERE class_id = \(schoolClass.id) AND role = 'student' AND removed_at IS NULL),
                       (SELECT count(*) FROM class_teachers ct JOIN people p ON p.id = ct.person_id AND p.removed_at IS NULL
                        WHERE ct.class_id = \(schoolClass.id))
                """,
            what: ("the class", [("student", "students"), ("teacher assignment", "teacher assignments")]),
            first: "move or remove the students and unassign the teachers first", by: actor
        ) { connection in
            try await connection.query("UPDATE classes SET removed_at = now() WHERE id = \(schoolClass.id)", logger: database.logger)
            // Assignments of people removed earlier: nothing reads them once the class is gone.
            try await connection.query("DELETE FROM class_teachers WHERE class_id = \(schoolClass.id)", logger: database.logger)
            try await connection.query(
                "UPDATE chats SET archived_at = now() WHERE class_id = \(schoolClass.id) AND archived_at IS NULL", logger: database.logger)
        }
    }

    public func remove(_ school: School, by actor: Identity) async throws {
        try await removing(
            "school.remove", PublicID.encode(.school, school.id), at: school.placement, details: ["name": .text(school.name)],
            lock: "SELECT true FROM schools WHERE id = \(school.id) AND removed_at IS NULL FOR UPDATE",
            contents: """
                SELECT (SELECT count(*) FROM classes WHERE school_id = \(school.id) AND removed_at IS NULL),
                       (SELECT count(*) FROM people WHERE school_id = \(school.id) AND removed_at IS NULL)
                """,
            what: ("the school", [("class", "classes"), ("person", "people")]),
            first: "remove its classes and people first", by: actor
        ) { connection in
            try await connection.query("UPDATE schools SET removed_at = now() WHERE id = \(school.id)", logger: database.logger)
            try await connection.query(
                "UPDATE chats SET archived_at = now() WHERE school_id = \(school.id) AND kind <> 'direct' AND archived_at IS NULL",
                logger: database.logger)
        }
    }

    public func remove(_ municipality: Municipality, by actor: Identity) async throws {
        try await removing(
            "municipality.remove", PublicID.encode(.municipality, municipality.id), at: municipality.placement,
            details: ["name": .text(municipality.name)],
            lock: "SELECT true FROM municipalities WHERE id = \(municipality.id) AND removed_at IS NULL FOR UPDATE",
            contents: """
                SELECT (SELECT count(*) FROM schools WHERE municipality_id = \(municipality.id) AND removed_at IS NULL),
                       (SELECT count(*) FROM people WHERE municipality_id = \(municipality.id) AND role = 'municipal_admin' AND removed_at IS NULL)
                """,
            what: ("the municipality", [("school", "schools"), ("municipal admin", "municipal admins")]),
            first: "remove them first", by: actor
        ) { connection in
            try await connection.query("UPDATE municipalities SET removed_at = now() WHERE id = \(municipality.id)", logger: database.logger)
            try await connection.query(
                "UPDATE chats SET archived_at = now() WHERE municipality_id = \(municipality.id) AND kind <> 'direct' AND archived_at IS NULL",
                logger: database.logger)
        }
    }

    public func remove(_ region: Region, by actor: Identity) async throws {
        try await removing(
            "region.remove", region.code, at: Placement(regionCode: region.code), details: ["name": .text(region.name)],
            lock: "SELECT true FROM regions WHERE code = \(region.code) AND removed_at IS NULL FOR UPDATE",
            contents: """
                SELECT (SELECT count(*) FROM municipalities WHERE region_code = \(region.code) AND removed_at IS NULL),
                       (SELECT count(*) FROM people WHERE region_code = \(region.code) AND role = 'regional_admin' AND removed_at IS NULL)
                """,
            what: ("the region", [("municipality", "municipalities"), ("regional admin", "regional admins")]),
            first: "remove them first", by: actor
        ) { connection in
            try await connection.query("UPDATE regions SET removed_at = now() WHERE code = \(region.code)", logger: database.logger)
        }
    }

    /// Locks the unit, counts the two kinds of thing that keep it (`contents` answers one row of two counts), and
    /// either refuses with 409 ("the class still has 3 students and 1 teacher assignment: …") or runs `statements`
    /// and records `action`, all in one transaction. 404 when the unit was removed meanwhile.
    private func removing(
        _ action: String, _ object: String, at placement: Placement, details: [String: AuditEntry.Value],
        lock: PostgresQuery, contents: PostgresQuery, what: (unit: String, kinds: [(String, String)]), first: String, by actor: Identity,
        _ statements: (PostgresConnection) async throws -> Void
    ) async throws {
        try await database.transaction { connection in
            guard try await connection.query(lock, logger: database.logger).decode(Bool.self).first(where: { _ in true }) != nil else {
                throw ZvonokError.notFound("no such \(what.unit.dropFirst(4))")
            }
            let counts = try await connection.query(contents, logger: database.logger).decode((Int, Int).self).first { _ in true } ?? (0, 0)
            let held = zip([counts.0, counts.1], what.kinds).filter { $0.0 > 0 }.map { count, names in
                "\(count) \(count == 1 ? names.0 : names.1)"
            }
            guard held.isEmpty else {
                throw ZvonokError.conflict("\(what.unit) still has \(held.joined(separator: " and ")): \(first)")
            }
            try await statements(connection)
            try await AuditTrail.record(actor, action, object: object, at: placement, details: details, on: connection, logger: database.logger)
        }
    }
}
