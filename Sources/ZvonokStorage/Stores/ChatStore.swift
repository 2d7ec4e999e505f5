import Foundation
import PostgresNIO
public import ZvonokCore

/// Chats as their members see them, and direct chats between two people.
public struct ChatStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The person's chats in id order, with the last sequence number and their read mark. A direct chat's title is
    /// the other person's name.
    public func chats(of personID: Int64, after: Int64, limit: Int) async throws -> [ChatSummary] {
        try await summaries(
            """
            SELECT c.id, c.kind,
                   CASE WHEN c.kind = 'direct'
                        THEN (SELECT name FROM people WHERE id = CASE WHEN c.direct_low = \(personID) THEN c.direct_high ELSE c.direct_low END)
                        ELSE c.title END,
                   c.last_seq, m.read_seq
            FROM chat_members m JOIN chats c ON c.id = m.chat_id
            WHERE m.person_id = \(personID) AND c.id > \(after)
            ORDER BY c.id LIMIT \(limit)
            """
        )
    }

    /// A chat's current members in id order after `after`: who the senders of its messages are; with `staffOnly`,
    /// only those who are neither students nor guardians.
    public func members(of chatID: Int64, staffOnly: Bool, after: Int64, limit: Int) async throws -> [Person] {
        let rows = try await database.query(
            """
            SELECT \(unescaped: PeopleStore.columns) FROM chat_members m JOIN people p ON p.id = m.person_id
            WHERE m.chat_id = \(chatID) AND p.id > \(after) AND p.removed_at IS NULL
              AND NOT (\(staffOnly) AND p.role IN ('student', 'guardian'))
            ORDER BY p.id LIMIT \(limit)
            """
        )
        var result: [Person] = []
        for try await row in rows.decode((Int64, String, String, String?, String?, Int64?, Int64?, Int64?, Date?).self) {
            result.append(PeopleStore.person(row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8))
        }
        return result
    }

    /// How many current members a chat has.
    public func memberCount(of chatID: Int64) async throws -> Int {
        let rows = try await database.query(
            "SELECT count(*)::bigint FROM chat_members m JOIN people p ON p.id = m.person_id WHERE m.chat_id = \(chatID) AND p.removed_at IS NULL"
        )
        return Int(try await rows.decode(Int64.self).first { _ in true } ?? 0)
    }

    /// Opens the direct chat of two people, or finds the one they already have. Returns it as `first` sees it,
    /// whether it is new, and the memberships a new chat creates.
    public func openDirect(_ first: Identity, _ second: Identity) async throws -> (chat: ChatSummary, created: Bool, changes: [MembershipChange]) {
        let low = min(first.personID, second.personID)
        let high = max(first.personID, second.personID)
        return try await database.transaction { connection in
            let inserted = try await connection.query(
                """
                INSERT INTO chats (kind, title, region_code, municipality_id, school_id, direct_low, direct_high)
                VALUES ('direct', '', \(first.regionCode), \(first.municipalityID), \(first.schoolID), \(low), \(high))
                ON CONFLICT (direct_low, direct_high) WHERE kind = 'direct' DO NOTHING
                RETURNING id
                """,
                logger: database.logger
            )
            var chatID = try await inserted.decode(Int64.self).first { _ in true }
            let created = chatID != nil
            if chatID == nil {
                let existing = try await connection.query(
                    "SELECT id FROM chats WHERE kind = 'direct' AND direct_low = \(low) AND direct_high = \(high)",
                    logger: database.logger
                )
                chatID = try await existing.decode(Int64.self).first { _ in true }
            }
            guard let chatID else { throw ZvonokError(.internal, "direct chat vanished") }
            var changes: [MembershipChange] = []
            if created {
                try await connection.query(
                    "INSERT INTO chat_members (chat_id, person_id) VALUES (\(chatID), \(low)), (\(chatID), \(high))",
                    logger: database.logger
                )
                changes = [low, high].map { MembershipChange(chatID: chatID, personID: $0, joined: true) }
            }
            let rows = try await connection.query(
                "SELECT c.id, c.kind, \(second.name), c.last_seq, m.read_seq FROM chats c JOIN chat_members m ON m.chat_id = c.id AND m.person_id = \(first.personID) WHERE c.id = \(chatID)",
                logger: database.logger
            )
            guard let chat = try await Self.summaries(rows).first else { throw ZvonokError(.internal, "direct chat has no member row") }
            return (chat, created, changes)
        }
    }

    private func summaries(_ query: PostgresQuery) async throws -> [ChatSummary] {
        try await Self.summaries(database.query(query))
    }

    static func summaries(_ rows: PostgresRowSequence) async throws -> [ChatSummary] {
        var result: [ChatSummary] = []
        for try await (id, kind, title, lastSeq, readSeq) in rows.decode((Int64, String, String, Int64, Int64).self) {
            result.append(ChatSummary(id: id, kind: ChatKind(rawValue: kind) ?? .direct, title: title, lastSeq: lastSeq, readSeq: readSeq))
        }
        return result
    }
}
