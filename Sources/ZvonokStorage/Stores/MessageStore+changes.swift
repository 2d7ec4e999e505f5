public import Foundation
import PostgresNIO
public import ZvonokCore

/// Changes to stored messages after they were sent — edits, deletions — and members' read marks.
///
/// Every edit keeps the text it replaces, and a deletion by anyone but the author keeps the text it removes, in
/// `message_revisions` (sql/009), for the admins over the chat (`ModerationStore.revisions`).
///
/// Edits and deletions keep the rating's roll-ups exact: a message whose counting changes (deleted, or edited to or
/// from text that counts) within the Moscow week it was sent in moves that week's `activity_daily.counted` (through
/// the activity queue, as the group commit's counts do); once its week is over, the week's figures stay as they were
/// (contract §6: messages deleted before the end of W do not count for W).
extension MessageStore {
    /// What an edit or a deletion changed.
    public struct Change: Sendable, Equatable {
        public let chatID: Int64
        public let seq: Int64
        /// The new text (empty once deleted).
        public let text: String
        public let at: Date
        /// False when the message was already deleted: nothing changed, nothing to tell anyone.
        public let changed: Bool
    }

    /// Replaces the text of the author's own message, keeping the text it had.
    public func edit(chat: Int64, seq: Int64, by person: Int64, text: String) async throws -> Change {
        try await database.transaction { connection in
            let message = try await lock(chat: chat, seq: seq, for: person, on: connection)
            guard message.senderID == person else { throw ZvonokError.forbidden("only the author edits a message") }
            guard !message.deleted else { throw ZvonokError.conflict("the message was deleted") }
            // A message with files counts whatever its text (docs/rating.md).
            let counted = message.hasFiles || MessageText.isCounted(text)
            let rows = try await connection.query(
                """
                UPDATE messages SET text = \(text), counted = \(counted), edited_at = now()
                WHERE chat_id = \(chat) AND seq = \(seq) AND sent_at = \(message.sentAt)
                RETURNING edited_at
                """,
                logger: database.logger
            )
            let editedAt = try await rows.decode(Date.self).first { _ in true } ?? Date()
            try await keepRevision(of: message, .edit, by: person, on: connection)
            try await recount(message, by: (counted ? 1 : 0) - (message.counted ? 1 : 0), on: connection)
            return Change(chatID: chat, seq: seq, text: text, at: editedAt, changed: true)
        }
    }

    /// Deletes a message: by its author, or by staff of the chat (`ChatPolicy.mayDelete`), whose deletion keeps the
    /// text and goes into the audit log.
    public func delete(chat: Int64, seq: Int64, by caller: Identity) async throws -> Change {
        try await database.transaction { connection in
            let message = try await lock(chat: chat, seq: seq, for: caller.personID, on: connection)
            guard ChatPolicy.mayDelete(authoredBy: message.senderID, role: message.senderRole, in: message.chat, by: caller) else {
                throw ZvonokError.forbidden(
                    "only the author, the class's teachers and the admins over the chat delete a message; an admin's only admins")
            }
            if let deletedAt = message.deletedAt {
                return Change(chatID: chat, seq: seq, text: "", at: deletedAt, changed: false)
            }
            let rows = try await connection.query(
                """
                UPDATE messages SET deleted_at = now()
                WHERE chat_id = \(chat) AND seq = \(seq) AND sent_at = \(message.sentAt)
                RETURNING deleted_at
                """,
                logger: database.logger
            )
            let deletedAt = try await rows.decode(Date.self).first { _ in true } ?? Date()
            // Its files go after the moderation window (`FileStore.removeExpired`).
            try await connection.query(
                "UPDATE files SET message_deleted_at = \(deletedAt) WHERE chat_id = \(chat) AND posted_seq = \(seq)", logger: database.logger)
            if message.senderID != caller.personID { try await moderated(message, by: caller, on: connection) }
            try await recount(message, by: message.counted ? -1 : 0, on: connection)
            return Change(chatID: chat, seq: seq, text: "", at: deletedAt, changed: true)
        }
    }

    /// Moves the member's read mark forward to `seq` (never back, never past the chat's last message); returns the
    /// mark before and after. A mark that would not move is not written at all: the statement changes no row, so
    /// the transaction takes no id and commits without a WAL flush (a client may send `read` on every view).
    public func markRead(chat: Int64, by person: Int64, through seq: Int64) async throws -> (before: Int64, after: Int64) {
        let rows = try await database.query(
            """
            WITH target AS (
                SELECT m.read_seq AS before, LEAST(\(seq), c.last_seq) AS mark
                FROM chat_members m JOIN chats c ON c.id = m.chat_id
                WHERE m.chat_id = \(chat) AND m.person_id = \(person)
            ), moved AS (
                UPDATE chat_members m SET read_seq = target.mark FROM target
                WHERE m.chat_id = \(chat) AND m.person_id = \(person) AND m.read_seq < target.mark
                RETURNING m.read_seq
            )
            SELECT target.before, COALESCE((SELECT read_seq FROM moved), target.before) FROM target
            """
        )
        guard let marks = try await rows.decode((Int64, Int64).self).first(where: { _ in true }) else {
            throw ZvonokError.notFound("no such chat")
        }
        return (marks.0, marks.1)
    }

    /// The row an edit or deletion works on, locked for the transaction, with its author's role and its chat as
    /// the person changing it sees it.
    private struct LockedMessage {
        let chatID: Int64
        let seq: Int64
        let senderID: Int64
        let senderRole: Role
        let sentAt: Date
        let counted: Bool
        let hasFiles: Bool
        let deletedAt: Date?
        let text: String
        /// Sent in the current Moscow week, so the week's roll-ups still follow changes.
        let inCurrentWeek: Bool
        let chat: ModeratedChat
        var deleted: Bool { deletedAt != nil }
    }

    private func lock(chat: Int64, seq: Int64, for person: Int64, on connection: PostgresConnection) async throws -> LockedMessage {
        let rows = try await connection.query(
            """
            SELECT m.sender_id, s.role, m.sent_at, m.counted, m.deleted_at, m.text,
                   date_trunc('week', m.sent_at AT TIME ZONE 'UTC' + interval '3 hours')
                       = date_trunc('week', now() AT TIME ZONE 'UTC' + interval '3 hours'),
                   c.kind, coalesce(c.region_code, ''), c.municipality_id, c.school_id,
                   EXISTS (SELECT 1 FROM class_teachers t WHERE t.class_id = c.class_id AND t.person_id = \(person)),
                   EXISTS (SELECT 1 FROM files f WHERE f.chat_id = m.chat_id AND f.posted_seq = m.seq)
            FROM messages m JOIN chats c ON c.id = m.chat_id JOIN people s ON s.id = m.sender_id
            WHERE m.chat_id = \(chat) AND m.seq = \(seq)
            FOR UPDATE OF m
            """,
            logger: database.logger
        )
        for try await row in rows.decode((Int64, String, Date, Bool, Date?, String, Bool, String, String, Int64?, Int64?, Bool, Bool).self) {
            let place = ModeratedChat(
                kind: ChatKind(rawValue: row.7) ?? .direct,
                placement: Placement(regionCode: row.8, municipalityID: row.9, schoolID: row.10), callerTeachesClass: row.11
            )
            return LockedMessage(
                chatID: chat, seq: seq, senderID: row.0, senderRole: Role(rawValue: row.1) ?? .student, sentAt: row.2, counted: row.3,
                hasFiles: row.12, deletedAt: row.4, text: row.5, inCurrentWeek: row.6, chat: place
            )
        }
        throw ZvonokError.notFound("no such message")
    }

    /// Keeps the message's text as it was before `change`, made by `person`.
    private func keepRevision(
        of message: LockedMessage, _ change: ModerationStore.Revision.Change, by person: Int64, on connection: PostgresConnection
    ) async throws {
        try await connection.query(
            """
            INSERT INTO message_revisions (chat_id, seq, change, text, by_id)
            VALUES (\(message.chatID), \(message.seq), \(change.rawValue), \(message.text), \(person))
            """,
            logger: database.logger
        )
    }

    /// A deletion by someone other than the author: the text is kept and the audit log says who did it (never the text).
    private func moderated(_ message: LockedMessage, by caller: Identity, on connection: PostgresConnection) async throws {
        try await keepRevision(of: message, .deletion, by: caller.personID, on: connection)
        try await AuditTrail.record(
            caller, "message.delete", object: "\(PublicID.encode(.chat, message.chatID)).\(message.seq)", at: message.chat.placement,
            details: ["author": .text(PublicID.encode(.person, message.senderID))], on: connection, logger: database.logger
        )
    }

    /// Adjusts the counted messages of the message's day, chat and sender, while its week is running: a delta
    /// appended to the activity queue (sql/007), applied like the group commit's, whether or not the message's own
    /// activity has been applied yet.
    private func recount(_ message: LockedMessage, by delta: Int, on connection: PostgresConnection) async throws {
        guard delta != 0, message.inCurrentWeek else { return }
        try await connection.query(
            """
            INSERT INTO activity_queue (day, chat_id, person_id, messages, counted)
            VALUES ((\(message.sentAt)::timestamptz AT TIME ZONE 'UTC' + interval '3 hours')::date, \(message.chatID), \(message.senderID), 0, \(delta))
            """,
            logger: database.logger
        )
    }
}
