import Foundation
import Logging
import PostgresNIO
public import ZvonokCore

/// Regions, municipalities, schools and classes, and the chats created with them (contract §1, §4).
public struct StructureStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    // MARK: Regions

    /// Creates a region, or brings back a removed one under its code (a region's code is its key, and the codes are
    /// the country's: a region removed by mistake must be able to come back).
    public func createRegion(code: String, name: String, by actor: Identity) async throws -> Region {
        try await database.transaction { connection in
            let rows = try await connection.query(
                """
                INSERT INTO regions (code, name) VALUES (\(code), \(name))
                ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, removed_at = NULL WHERE regions.removed_at IS NOT NULL
                RETURNING code
                """,
                logger: database.logger
            )
            guard try await rows.decode(String.self).first(where: { _ in true }) != nil else {
                throw ZvonokError.conflict("already exists: region \(code)")
            }
            try await AuditTrail.record(
                actor, "region.create", object: code, at: Placement(regionCode: code), details: ["name": .text(name)], on: connection,
                logger: database.logger)
            return Region(code: code, name: name)
        }
    }

    public func region(code: String) async throws -> Region? {
        let rows = try await database.query("SELECT code, name FROM regions WHERE code = \(code) AND removed_at IS NULL")
        for try await (code, name) in rows.decode((String, String).self) { return Region(code: code, name: name) }
        return nil
    }

    /// Regions in code order after `after`; `only` narrows to one region (a regional admin sees their own).
    public func regions(after: String?, only: String?, limit: Int) async throws -> [Region] {
        let rows = try await database.query(
            """
            SELECT code, name FROM regions
            WHERE code > \(after ?? "") AND (\(only)::text IS NULL OR code = \(only)) AND removed_at IS NULL
            ORDER BY code LIMIT \(limit)
            """
        )
        var regions: [Region] = []
        for try await (code, name) in rows.decode((String, String).self) { regions.append(Region(code: code, name: name)) }
        return regions
    }

    // MARK: Municipalities

    public func createMunicipality(regionCode: String, name: String, externalID: String?, by actor: Identity) async throws -> Municipality {
        try await database.transaction { connection in
            let rows = try await connection.query(
                "INSERT INTO municipalities (region_code, name, external_id) VALUES (\(regionCode), \(name), \(externalID)) RETURNING id",
                logger: database.logger
            )
            let id = try await rows.decode(Int64.self).first { _ in true } ?? 0
            try await connection.query(
                """
                INSERT INTO chats (kind, title, region_code, municipality_id) VALUES ('municipality', \(name), \(regionCode), \(id))
                """,
                logger: database.logger
            )
            let municipality = Municipality(id: id, regionCode: regionCode, name: name, externalID: externalID)
            try await AuditTrail.record(
                actor, "municipality.create", object: PublicID.encode(.municipality, id), at: municipality.placement,
                details: Self.auditDetails(name: name, externalID: externalID), on: connection, logger: database.logger
            )
            return municipality
        }
    }

    static let municipalityColumns = "id, region_code, name, external_id"

    public func municipality(id: Int64) async throws -> Municipality? {
        try await municipalities(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.municipalityColumns) FROM municipalities WHERE id = $1 AND removed_at IS NULL", binds: try binds(id))
        ).first
    }

    public func municipalities(regionCode: String, after: Int64, limit: Int) async throws -> [Municipality] {
        try await municipalities(
            PostgresQuery(
                unsafeSQL:
                    "SELECT \(Self.municipalityColumns) FROM municipalities WHERE region_code = $1 AND id > $2 AND removed_at IS NULL ORDER BY id LIMIT $3",
                binds: try binds(regionCode, after, limit)
            )
        )
    }

    private func municipalities(_ query: PostgresQuery) async throws -> [Municipality] {
        var result: [Municipality] = []
        for try await (id, region, name, external) in try await database.query(query).decode((Int64, String, String, String?).self) {
            result.append(Municipality(id: id, regionCode: region, name: name, externalID: external))
        }
        return result
    }

    // MARK: Schools

    public func createSchool(in municipality: Municipality, name: String, externalID: String?, by actor: Identity) async throws -> School {
        try await database.transaction { connection in
            let rows = try await connection.query(
                """
                INSERT INTO schools (region_code, municipality_id, name, external_id)
                VALUES (\(municipality.regionCode), \(municipality.id), \(name), \(externalID)) RETURNING id
                """,
                logger: database.logger
            )
            let id = try await rows.decode(Int64.self).first { _ in true } ?? 0
            let staffTitle = "\(name) — педагоги"
            try await connection.query(
                """
                INSERT INTO chats (kind, title, region_code, municipality_id, school_id) VALUES
                    ('school', \(name), \(municipality.regionCode), \(municipality.id), \(id)),
                    ('school_staff', \(staffTitle), \(municipality.regionCode), \(municipality.id), \(id))
                """,
                logger: database.logger
            )
            let school = School(id: id, regionCode: municipality.regionCode, municipalityID: municipality.id, name: name, externalID: externalID)
            try await AuditTrail.record(
                actor, "school.create", object: PublicID.encode(.school, id), at: school.placement,
                details: Self.auditDetails(name: name, externalID: externalID), on: connection, logger: database.logger
            )
            return school
        }
    }

    // MARK: Renaming

    /// Renames a region (it has no chat of its own).
    public func rename(_ region: Region, to name: String, by actor: Identity) async throws -> Region {
        try await renaming("region.rename", region.code, at: Placement(regionCode: region.code), from: region.name, to: name, by: actor) {
            connection in
            try await connection.query("UPDATE regions SET name = \(name) WHERE code = \(region.code)", logger: database.logger)
        }
        return Region(code: region.code, name: name)
    }

    /// Renames a class to another grade and letter, and its two chats with it: their titles come from
    /// `zvonok_class_chat_title`, as when the class was created (sql/004). A class that already has that grade,
    /// letter and year in the school is a conflict (409).
    public func rename(
        _ schoolClass: SchoolClass, in school: School, grade: Int, letter: String, by actor: Identity
    ) async throws -> SchoolClass {
        let renamed = SchoolClass(
            id: schoolClass.id, schoolID: schoolClass.schoolID, grade: grade, letter: letter, year: schoolClass.year,
            externalID: schoolClass.externalID)
        let object = PublicID.encode(.class, schoolClass.id)
        try await renaming("class.rename", object, at: school.placement, from: schoolClass.label, to: renamed.label, by: actor) { connection in
            try await connection.query(
                "UPDATE classes SET grade = \(grade), letter = \(letter) WHERE id = \(schoolClass.id)", logger: database.logger)
            try await Self.retitleClassChats(of: [schoolClass.id], on: connection, logger: database.logger)
        }
        return renamed
    }

    /// Renames a municipality and its chat.
    public func rename(_ municipality: Municipality, to name: String, by actor: Identity) async throws -> Municipality {
        let object = PublicID.encode(.municipality, municipality.id)
        try await renaming("municipality.rename", object, at: municipality.placement, from: municipality.name, to: name, by: actor) { connection in
            try await connection.query("UPDATE municipalities SET name = \(name) WHERE id = \(municipality.id)", logger: database.logger)
            try await connection.query(
                "UPDATE chats SET title = \(name) WHERE municipality_id = \(municipality.id) AND kind = 'municipality'", logger: database.logger)
        }
        return Municipality(id: municipality.id, regionCode: municipality.regionCode, name: name, externalID: municipality.externalID)
    }

    /// Renames a school and its school-wide and staff chats.
    public func rename(_ school: School, to name: String, by actor: Identity) async throws -> School {
        let object = PublicID.encode(.school, school.id)
        try await renaming("school.rename", object, at: school.placement, from: school.name, to: name, by: actor) { connection in
            try await connection.query("UPDATE schools SET name = \(name) WHERE id = \(school.id)", logger: database.logger)
            let staffTitle = "\(name) — педагоги"
            try await connection.query(
                """
                UPDATE chats SET title = CASE kind WHEN 'school' THEN \(name) ELSE \(staffTitle) END
                WHERE school_id = \(school.id) AND kind IN ('school', 'school_staff')
                """,
                logger: database.logger
            )
        }
        return School(
            id: school.id, regionCode: school.regionCode, municipalityID: school.municipalityID, name: name, externalID: school.externalID,
            officialID: school.officialID)
    }

    /// Sets (or clears) a school's number in the official registry (issue 20); 409 when another school of the region
    /// holds it.
    public func setOfficialID(_ school: School, to officialID: String?, by actor: Identity) async throws -> School {
        try await database.transaction { connection in
            try await connection.query("UPDATE schools SET official_id = \(officialID) WHERE id = \(school.id)", logger: database.logger)
            var details: [String: AuditEntry.Value] = [:]
            details["officialId"] = officialID.map(AuditEntry.Value.text)
            try await AuditTrail.record(
                actor, "school.official_id", object: PublicID.encode(.school, school.id), at: school.placement, details: details,
                on: connection, logger: database.logger)
        }
        var changed = school
        changed.officialID = officialID
        return changed
    }

    /// Runs a rename's statements and records it as `action` in one transaction.
    private func renaming(
        _ action: String, _ object: String, at placement: Placement, from previous: String, to name: String, by actor: Identity,
        _ statements: (PostgresConnection) async throws -> Void
    ) async throws {
        try await database.transaction { connection in
            try await statements(connection)
            try await AuditTrail.record(
                actor, action, object: object, at: placement,
                details: ["name": .text(name), "previousName": .text(previous)], on: connection, logger: database.logger)
        }
    }

    /// What the audit log keeps of a new municipality or school.
    static func auditDetails(name: String, externalID: String?) -> [String: AuditEntry.Value] {
        var details: [String: AuditEntry.Value] = ["name": .text(name)]
        details["externalId"] = externalID.map(AuditEntry.Value.text)
        return details
    }

    static let schoolColumns = "id, region_code, municipality_id, name, external_id, official_id"

    public func school(id: Int64) async throws -> School? {
        try await schools(
            PostgresQuery(unsafeSQL: "SELECT \(Self.schoolColumns) FROM schools WHERE id = $1 AND removed_at IS NULL", binds: try binds(id))
        ).first
    }

    public func schools(municipalityID: Int64, after: Int64, limit: Int) async throws -> [School] {
        try await schools(
            PostgresQuery(
                unsafeSQL:
                    "SELECT \(Self.schoolColumns) FROM schools WHERE municipality_id = $1 AND id > $2 AND removed_at IS NULL ORDER BY id LIMIT $3",
                binds: try binds(municipalityID, after, limit)
            )
        )
    }

    /// Every school of a region, or of one of its municipalities, in id order (a rollover goes through them one by one).
    public func schools(regionCode: String, municipalityID: Int64?) async throws -> [School] {
        try await schools(
            """
            SELECT \(unescaped: Self.schoolColumns) FROM schools
            WHERE region_code = \(regionCode) AND (\(municipalityID)::bigint IS NULL OR municipality_id = \(municipalityID))
              AND removed_at IS NULL ORDER BY id
            """)
    }

    private func schools(_ query: PostgresQuery) async throws -> [School] {
        try await Self.schools(of: database.query(query))
    }

    /// The schools of rows holding `schoolColumns`.
    static func schools(of rows: PostgresRowSequence) async throws -> [School] {
        var result: [School] = []
        for try await (id, region, municipality, name, external, official) in rows.decode((Int64, String, Int64, String, String?, String?).self) {
            result.append(School(id: id, regionCode: region, municipalityID: municipality, name: name, externalID: external, officialID: official))
        }
        return result
    }

    // MARK: Classes

    /// Creates a class with its `class` and `class_parents` chats.
    public func createClass(
        in school: School, grade: Int, letter: String, year: String, externalID: String?, by actor: Identity
    ) async throws -> SchoolClass {
        try await database.transaction { connection in
            let created = try await Self.insertClass(
                in: school, grade: grade, letter: letter, year: year, externalID: externalID, on: connection, database: database)
            try await AuditTrail.record(
                actor, "class.create", object: PublicID.encode(.class, created.id), at: school.placement,
                details: ["grade": .number(grade), "letter": .text(letter), "year": .text(year)], on: connection, logger: database.logger
            )
            return created
        }
    }

    static func insertClass(
        in school: School, grade: Int, letter: String, year: String, externalID: String?,
        on connection: PostgresConnection, database: Database
    ) async throws -> SchoolClass {
        let rows = try await connection.query(
            """
            INSERT INTO classes (school_id, grade, letter, year, external_id)
            VALUES (\(school.id), \(grade), \(letter), \(year), \(externalID)) RETURNING id
            """,
            logger: database.logger
        )
        let id = try await rows.decode(Int64.self).first { _ in true } ?? 0
        try await createClassChats(for: [id], in: school, on: connection, logger: database.logger)
        let schoolClass = SchoolClass(id: id, schoolID: school.id, grade: grade, letter: letter, year: year, externalID: externalID)
        return schoolClass
    }

    /// Creates the `class` and `class_parents` chats of new classes.
    static func createClassChats(for classIDs: [Int64], in school: School, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO chats (kind, title, region_code, municipality_id, school_id, class_id)
            SELECT k.kind, zvonok_class_chat_title(k.kind, c.grade, c.letter), \(school.regionCode), \(school.municipalityID), \(school.id), c.id
            FROM classes c CROSS JOIN (VALUES ('class'), ('class_parents')) AS k (kind)
            WHERE c.id = ANY (\(classIDs))
            """,
            logger: logger
        )
    }

    /// Titles the `class` and `class_parents` chats of classes after their grade and letter again.
    static func retitleClassChats(of classIDs: [Int64], on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            UPDATE chats ch SET title = zvonok_class_chat_title(ch.kind, c.grade, c.letter)
            FROM classes c WHERE ch.class_id = c.id AND c.id = ANY (\(classIDs))
            """,
            logger: logger
        )
    }

    static let classColumns = "id, school_id, grade::int, letter, year, external_id"

    public func schoolClass(id: Int64) async throws -> SchoolClass? {
        try await classes(
            PostgresQuery(unsafeSQL: "SELECT \(Self.classColumns) FROM classes WHERE id = $1 AND removed_at IS NULL", binds: try binds(id))
        ).first
    }

    public func classes(schoolID: Int64, after: Int64, limit: Int) async throws -> [SchoolClass] {
        try await classes(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.classColumns) FROM classes WHERE school_id = $1 AND id > $2 AND removed_at IS NULL ORDER BY id LIMIT $3",
                binds: try binds(schoolID, after, limit)
            )
        )
    }

    private func classes(_ query: PostgresQuery) async throws -> [SchoolClass] {
        var result: [SchoolClass] = []
        for try await (id, school, grade, letter, year, external) in try await database.query(query).decode(
            (Int64, Int64, Int, String, String, String?).self)
        {
            result.append(SchoolClass(id: id, schoolID: school, grade: grade, letter: letter, year: year, externalID: external))
        }
        return result
    }
}

/// Bindings for a query whose SQL text is assembled from constant column lists.
func binds(_ values: any PostgresEncodable & Sendable...) throws -> PostgresBindings {
    var bindings = PostgresBindings(capacity: values.count)
    for value in values { try bindings.append(value) }
    return bindings
}
