public import Foundation
import Logging
import PostgresNIO
public import ZvonokCore

/// Erasure of the personal data of people who left (issue 20; 152-FZ keeps it only while the purpose lasts).
///
/// The person's row stays — role, school and the moments listed, registered and removed — so that the weekly rating
/// of every past week reads the same; what named them goes: name (replaced by `placeholderName`, which the others
/// then see beside the person's messages), external id, e-mail, provider links, tokens and invites, and the names the
/// audit log kept of them. Their messages stay for the others' history unless their school chose to delete them too
/// (`schools.erase_messages`), in which case their text and the revisions of it are purged; activity counts are not
/// touched, so no week's rating moves.
public struct ErasureStore: Sendable {
    let database: Database

    /// What an erased person is called from then on.
    public static let placeholderName = "Удалённый пользователь"

    public init(database: Database) {
        self.database = database
    }

    /// Whether `school` chose to delete an erased person's messages too, rather than keep them for the others' history.
    public func deletesMessages(school: Int64) async throws -> Bool {
        let rows = try await database.query("SELECT erase_messages FROM schools WHERE id = \(school)")
        return try await rows.decode(Bool.self).first { _ in true } ?? false
    }

    /// Sets that choice for `school`, in the audit log.
    public func setDeletesMessages(_ deletes: Bool, school: Int64, by actor: Identity, at placement: Placement) async throws {
        try await database.transaction { connection in
            try await connection.query("UPDATE schools SET erase_messages = \(deletes) WHERE id = \(school)", logger: database.logger)
            try await AuditTrail.record(
                actor, "school.erasure", object: PublicID.encode(.school, school), at: placement, details: ["deleteMessages": .flag(deletes)],
                on: connection, logger: database.logger)
        }
    }

    /// Removes the person if they are not removed yet and erases them at once (`DELETE /v1/people/{id}?erase=now`).
    public func eraseNow(_ person: Person, by actor: Identity) async throws -> [MembershipChange] {
        try await database.transaction { connection in
            let logger = database.logger
            try await PeopleStore.leave([person.id], on: connection, logger: logger)
            let changes = try await PeopleStore.syncMembership(around: person, on: connection, database: database)
            try await Self.erase([person.id], on: connection, logger: logger)
            try await AuditTrail.record(
                actor, "person.erase", object: PublicID.encode(.person, person.id), at: person.placement,
                details: ["role": .text(person.role.rawValue)], on: connection, logger: logger)
            return changes
        }
    }

    /// Erases everyone removed before `cutoff` and not erased yet (the grace period's end); returns how many.
    public func eraseRemoved(before cutoff: Date) async throws -> Int {
        try await database.transaction { connection in
            let rows = try await connection.query(
                "SELECT id FROM people WHERE removed_at < \(cutoff) AND erased_at IS NULL ORDER BY id FOR UPDATE", logger: database.logger)
            var ids: [Int64] = []
            for try await id in rows.decode(Int64.self) { ids.append(id) }
            try await Self.erase(ids, on: connection, logger: database.logger)
            return ids.count
        }
    }

    static func erase(_ ids: [Int64], on connection: PostgresConnection, logger: Logger) async throws {
        guard !ids.isEmpty else { return }
        let statements: [PostgresQuery] = [
            """
            UPDATE people SET name = \(placeholderName), external_id = NULL, email = NULL, erased_at = now() WHERE id = ANY (\(ids))
            """,
            "DELETE FROM oidc_sessions WHERE token_id IN (SELECT id FROM tokens WHERE person_id = ANY (\(ids)))",
            "DELETE FROM tokens WHERE person_id = ANY (\(ids))",
            "DELETE FROM invites WHERE person_id = ANY (\(ids))",
            "DELETE FROM linked_identities WHERE person_id = ANY (\(ids))",
            // Where their phones and browsers are reached, and their mutes (issue 18).
            "DELETE FROM push_subscriptions WHERE person_id = ANY (\(ids))",
            "DELETE FROM push_devices WHERE person_id = ANY (\(ids))",
            "DELETE FROM chat_mutes WHERE person_id = ANY (\(ids))",
            """
            UPDATE audit_log SET details = details - 'name' - 'externalId' - 'from' - 'to' - 'previousName' - 'email'
            WHERE object = ANY (\(ids.map { PublicID.encode(.person, $0) }))
            """,
            """
            DELETE FROM message_revisions r USING messages m, people p, schools s
            WHERE p.id = ANY (\(ids)) AND s.id = p.school_id AND s.erase_messages
              AND m.sender_id = p.id AND r.chat_id = m.chat_id AND r.seq = m.seq
            """,
            """
            UPDATE messages m SET text = '', deleted_at = coalesce(m.deleted_at, now())
            FROM people p JOIN schools s ON s.id = p.school_id AND s.erase_messages
            WHERE p.id = ANY (\(ids)) AND m.sender_id = p.id
            """,
            // Their files go with their messages, after the moderation window, as any deleted message's (issue 17).
            """
            UPDATE files f SET message_deleted_at = now()
            FROM people p JOIN schools s ON s.id = p.school_id AND s.erase_messages
            WHERE p.id = ANY (\(ids)) AND f.uploader_id = p.id AND f.posted_seq IS NOT NULL AND f.message_deleted_at IS NULL
            """,
        ]
        for statement in statements { try await connection.query(statement, logger: logger) }
    }
}
