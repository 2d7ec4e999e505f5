import Foundation
import PostgresNIO
public import ZvonokCore
public import ZvonokStorage

/// The small demo region of `zvonok serve --demo`: a municipality, two schools with classes, teachers, students and
/// guardians, a demo ministry account and a few messages — everything a person needs to try the web client. The
/// senders of the sample messages count as registered; everyone else registers by following their sign-in link.
///
/// Preparing it is idempotent: the region, municipality and schools are found by code and `externalId` before they
/// are made, the schools' people come from a roster upload (an upsert by `externalId`), and the sample messages
/// carry fixed client ids, so a second start finds everything in place and adds nothing. What does change on every
/// start are the invite codes: codes are stored hashed, so fresh ones are issued for the sign-in links (voiding the
/// unused ones of the previous start).
public struct DemoRegion: Sendable {
    /// The demo region's code, chosen to stay clear of `demo-data`'s default regions.
    public static let regionCode = "99"
    static let regionName = "Демонстрационный регион"
    static let municipalityName = "Городской округ Звонковский"
    // External ids of their own, apart from `demo-data`'s ("demo-m1", "demo-s1"), should it have filled region 99.
    static let ministryExternalID = "web-demo-ministry"
    static let municipalityExternalID = "web-demo-m1"

    /// One demo person and the invite code that signs them in.
    public struct SignIn: Sendable {
        public let name: String
        public let role: Role
        /// Where they sit: the school's name, or the region's for the ministry.
        public let place: String
        public let inviteCode: String
    }

    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Makes whatever of the demo region is missing, then issues one fresh invite per demo person.
    public func prepare(inviteLifetime: Duration) async throws -> [SignIn] {
        let ministry = try await demoMinistry()
        let structure = StructureStore(database: database)
        if try await structure.region(code: Self.regionCode) == nil {
            _ = try await structure.createRegion(code: Self.regionCode, name: Self.regionName, by: ministry)
        }
        let municipality = try await demoMunicipality(by: ministry)
        for school in DemoSchool.all {
            let stored = try await demoSchool(school, in: municipality, by: ministry)
            let roster = try Roster.parse(csv: Data(school.roster(year: DemoSchool.schoolYear(of: Date())).utf8))
            _ = try await RosterStore(database: database).upload(roster, to: stored, atomic: true, inviteLifetime: inviteLifetime, by: ministry)
            try await postSampleMessages(school, in: stored)
        }
        return try await issueSignIns(lifetime: inviteLifetime)
    }

    /// The demo's ministry account, the actor of the demo's audit entries; made on the first start.
    private func demoMinistry() async throws -> Identity {
        let rows = try await database.query(
            """
            WITH made AS (
                INSERT INTO people (role, name, external_id, registered_at)
                SELECT 'ministry', 'Министерство (демо)', \(Self.ministryExternalID), now()
                WHERE NOT EXISTS (SELECT 1 FROM people WHERE role = 'ministry' AND external_id = \(Self.ministryExternalID))
                RETURNING id, name
            )
            SELECT id, name FROM made
            UNION ALL
            SELECT id, name FROM people WHERE role = 'ministry' AND external_id = \(Self.ministryExternalID)
            """
        )
        for try await (id, name) in rows.decode((Int64, String).self) {
            return Identity(personID: id, role: .ministry, name: name, regionCode: nil, municipalityID: nil, schoolID: nil, classID: nil)
        }
        throw ZvonokError.unavailable("the demo ministry account could not be made")
    }

    private func demoMunicipality(by actor: Identity) async throws -> Municipality {
        let structure = StructureStore(database: database)
        let existing = try await structure.municipalities(regionCode: Self.regionCode, after: 0, limit: 200)
        if let found = existing.first(where: { $0.externalID == Self.municipalityExternalID }) { return found }
        return try await structure.createMunicipality(
            regionCode: Self.regionCode, name: Self.municipalityName, externalID: Self.municipalityExternalID, by: actor
        )
    }

    private func demoSchool(_ school: DemoSchool, in municipality: Municipality, by actor: Identity) async throws -> School {
        let structure = StructureStore(database: database)
        let existing = try await structure.schools(municipalityID: municipality.id, after: 0, limit: 200)
        if let found = existing.first(where: { $0.externalID == school.externalID }) { return found }
        return try await structure.createSchool(in: municipality, name: school.name, externalID: school.externalID, by: actor)
    }

    /// Commits the school's sample conversation; the fixed client ids make a second run a no-op.
    private func postSampleMessages(_ school: DemoSchool, in stored: School) async throws {
        let people = try await peopleByExternalID(schoolID: stored.id)
        let chats = try await chatsByKey(schoolID: stored.id)
        var batch: [PendingMessage] = []
        for (index, line) in school.conversation.enumerated() {
            guard let sender = people[line.from], let chat = chats[line.chat] else { continue }
            batch.append(PendingMessage(chatID: chat, senderID: sender, cid: "demo-\(school.externalID)-\(index)", text: line.text))
        }
        // Whoever speaks in the sample has signed in at some point, so the rating counts them as registered.
        try await database.query(
            "UPDATE people SET registered_at = coalesce(registered_at, now()) WHERE id = ANY (\(batch.map(\.senderID)))"
        )
        // Each speaker is a member of their chat; a refusal would be a mistake in the sample, so it stops the demo.
        for result in try await MessageStore(database: database).commit(batch) { _ = try result.get() }
    }

    private func peopleByExternalID(schoolID: Int64) async throws -> [String: Int64] {
        let rows = try await database.query(
            "SELECT external_id, id FROM people WHERE school_id = \(schoolID) AND external_id IS NOT NULL AND removed_at IS NULL"
        )
        var result: [String: Int64] = [:]
        for try await (external, id) in rows.decode((String, Int64).self) { result[external] = id }
        return result
    }

    /// The school's chats keyed `school`, `school_staff`, or `<kind>:<class externalId>` for class chats.
    private func chatsByKey(schoolID: Int64) async throws -> [String: Int64] {
        let rows = try await database.query(
            """
            SELECT CASE WHEN c.class_id IS NULL THEN c.kind ELSE c.kind || ':' || coalesce(k.external_id, k.id::text) END, c.id
            FROM chats c LEFT JOIN classes k ON k.id = c.class_id
            WHERE c.school_id = \(schoolID) AND c.kind <> 'direct'
            """
        )
        var result: [String: Int64] = [:]
        for try await (key, id) in rows.decode((String, Int64).self) { result[key] = id }
        return result
    }

    /// Voids the demo people's unused invites and issues one fresh code each, ministry first, then school by school.
    private func issueSignIns(lifetime: Duration) async throws -> [SignIn] {
        let rows = try await database.query(
            """
            SELECT p.id, p.name, p.role, coalesce(s.name, \(Self.regionName))
            FROM people p LEFT JOIN schools s ON s.id = p.school_id
            WHERE p.removed_at IS NULL
              AND ((p.role = 'ministry' AND p.external_id = \(Self.ministryExternalID)) OR p.region_code = \(Self.regionCode))
            ORDER BY p.school_id NULLS FIRST,
                     array_position(ARRAY['ministry', 'regional_admin', 'municipal_admin', 'school_admin', 'teacher', 'student',
                                          'guardian'], p.role),
                     p.id
            """
        )
        var people: [(id: Int64, name: String, role: Role, place: String)] = []
        for try await (id, name, role, place) in rows.decode((Int64, String, String, String).self) {
            people.append((id, name, Role(rawValue: role) ?? .student, place))
        }
        let codes = try await CredentialStore(database: database).renewInvites(of: people.map(\.id), lifetime: lifetime)
        return zip(people, codes).map { person, code in SignIn(name: person.name, role: person.role, place: person.place, inviteCode: code) }
    }
}
