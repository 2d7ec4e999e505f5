import PostgresNIO

/// Which chats people are in, with the membership version each was read at (sql/008): what the hub reads to make its
/// connections follow changes made anywhere, and to check it missed none.
public struct MembershipStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// A person's chats as of one membership version.
    public struct Membership: Sendable, Equatable {
        public let version: Int64
        public let chats: Set<Int64>
    }

    /// The current membership version of each person (0 for one whose chats never changed).
    public func versions(of people: [Int64]) async throws -> [Int64: Int64] {
        guard !people.isEmpty else { return [:] }
        let rows = try await database.query(
            """
            SELECT p.id, coalesce(v.version, 0)
            FROM unnest(\(people)::bigint[]) AS p (id) LEFT JOIN membership_versions v ON v.person_id = p.id
            """
        )
        var versions: [Int64: Int64] = [:]
        for try await (person, version) in rows.decode((Int64, Int64).self) { versions[person] = version }
        return versions
    }

    /// Each person's chats with the version they were read at, in one snapshot (one statement), so that the version
    /// names exactly that set.
    public func memberships(of people: [Int64]) async throws -> [Int64: Membership] {
        guard !people.isEmpty else { return [:] }
        let rows = try await database.query(
            """
            SELECT p.id, coalesce(v.version, 0), coalesce(array_agg(m.chat_id) FILTER (WHERE m.chat_id IS NOT NULL), '{}')
            FROM unnest(\(people)::bigint[]) AS p (id)
            LEFT JOIN membership_versions v ON v.person_id = p.id
            LEFT JOIN chat_members m ON m.person_id = p.id
            GROUP BY p.id, v.version
            """
        )
        var memberships: [Int64: Membership] = [:]
        for try await (person, version, chats) in rows.decode((Int64, Int64, [Int64]).self) {
            memberships[person] = Membership(version: version, chats: Set(chats))
        }
        return memberships
    }
}
