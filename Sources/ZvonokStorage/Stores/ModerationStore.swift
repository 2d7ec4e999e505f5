public import Foundation
import PostgresNIO
public import ZvonokCore

/// Moderation's records (sql/009): what edits replaced and moderators' deletions removed, and members' reports of
/// messages, for the admins over each chat. Message text read here goes to those admins only, never into a log.
public struct ModerationStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// A message's text as it was before an edit, or as a moderator's deletion took it away.
    public struct Revision: Sendable, Equatable {
        public enum Change: String, Sendable {
            case edit, deletion
        }

        public let id: Int64
        public let chatID: Int64
        public let seq: Int64
        public let change: Change
        public let text: String
        /// The author for an edit, the moderator for a deletion.
        public let byID: Int64
        public let at: Date
    }

    /// A member's report of a message, with the message as it is now (its text kept even once deleted).
    public struct Report: Sendable, Equatable {
        public let id: Int64
        public let chatID: Int64
        public let seq: Int64
        public let reporterID: Int64
        public let reason: String
        public let createdAt: Date
        public let closedAt: Date?
        public let closedByID: Int64?
        public let senderID: Int64
        public let text: String
        public let deleted: Bool
        /// Where the reported chat's school sits: who may read and close the report.
        public let placement: Placement
    }

    /// The chat as `person` sees it for moderation, and whether they are a member of it; nil when there is no such
    /// chat.
    public func chat(_ chatID: Int64, for person: Int64) async throws -> (chat: ModeratedChat, isMember: Bool)? {
        let rows = try await database.query(
            """
            SELECT c.kind, coalesce(c.region_code, ''), c.municipality_id, c.school_id,
                   EXISTS (SELECT 1 FROM class_teachers t WHERE t.class_id = c.class_id AND t.person_id = \(person)),
                   EXISTS (SELECT 1 FROM chat_members m WHERE m.chat_id = c.id AND m.person_id = \(person))
            FROM chats c WHERE c.id = \(chatID)
            """
        )
        for try await (kind, region, municipality, school, teaches, member) in rows.decode((String, String, Int64?, Int64?, Bool, Bool).self) {
            let placement = Placement(regionCode: region, municipalityID: municipality, schoolID: school)
            return (ModeratedChat(kind: ChatKind(rawValue: kind) ?? .direct, placement: placement, callerTeachesClass: teaches), member)
        }
        return nil
    }

    /// A message's revisions, oldest first, after the one with id `after`.
    public func revisions(chat: Int64, seq: Int64, after: Int64, limit: Int) async throws -> [Revision] {
        let rows = try await database.query(
            """
            SELECT id, change, text, by_id, at FROM message_revisions
            WHERE chat_id = \(chat) AND seq = \(seq) AND id > \(after)
            ORDER BY id LIMIT \(limit)
            """
        )
        var revisions: [Revision] = []
        for try await (id, change, text, by, at) in rows.decode((Int64, String, String, Int64, Date).self) {
            revisions.append(
                Revision(id: id, chatID: chat, seq: seq, change: Revision.Change(rawValue: change) ?? .edit, text: text, byID: by, at: at))
        }
        return revisions
    }

    /// Files `reporter`'s report of a message of a school's chat and records it in the audit log (without the reason
    /// or the text). Throws `not_found` when there is no such message, `conflict` when the reporter's earlier report
    /// of it is still open.
    public func report(chat: Int64, seq: Int64, by reporter: Identity, reason: String, at placement: Placement) async throws -> Report {
        let id = try await database.transaction { connection in
            let message = try await connection.query("SELECT 1 FROM messages WHERE chat_id = \(chat) AND seq = \(seq)", logger: database.logger)
            guard try await message.decode(Int.self).first(where: { _ in true }) != nil else { throw ZvonokError.notFound("no such message") }
            let rows = try await connection.query(
                """
                INSERT INTO message_reports (chat_id, seq, reporter_id, reason, school_id)
                VALUES (\(chat), \(seq), \(reporter.personID), \(reason), \(placement.schoolID))
                ON CONFLICT (chat_id, seq, reporter_id) WHERE closed_at IS NULL DO NOTHING
                RETURNING id
                """,
                logger: database.logger
            )
            guard let id = try await rows.decode(Int64.self).first(where: { _ in true }) else {
                throw ZvonokError.conflict("you have already reported this message; the school's admins have not closed it yet")
            }
            try await audit(reporter, "report.create", id: id, chat: chat, seq: seq, at: placement, on: connection)
            return id
        }
        guard let filed = try await self.report(id: id) else { throw ZvonokError(.internal, "a report vanished") }
        return filed
    }

    /// A school's open reports, oldest first, after the one with id `after`.
    public func openReports(of school: Int64, after: Int64, limit: Int) async throws -> [Report] {
        try await reports(
            database.query(
                "SELECT \(unescaped: Self.reportColumns) WHERE r.school_id = \(school) AND r.closed_at IS NULL AND r.id > \(after) ORDER BY r.id LIMIT \(limit)"
            )
        )
    }

    public func report(id: Int64) async throws -> Report? {
        try await reports(database.query("SELECT \(unescaped: Self.reportColumns) WHERE r.id = \(id)")).first
    }

    /// Closes an open report and records it in the audit log; `conflict` when it was closed already.
    public func close(_ report: Report, by admin: Identity) async throws -> Report {
        try await database.transaction { connection in
            let rows = try await connection.query(
                "UPDATE message_reports SET closed_at = now(), closed_by = \(admin.personID) WHERE id = \(report.id) AND closed_at IS NULL RETURNING id",
                logger: database.logger
            )
            guard try await rows.decode(Int64.self).first(where: { _ in true }) != nil else {
                throw ZvonokError.conflict("the report is closed already")
            }
            try await audit(admin, "report.close", id: report.id, chat: report.chatID, seq: report.seq, at: report.placement, on: connection)
        }
        guard let closed = try await self.report(id: report.id) else { throw ZvonokError(.internal, "a report vanished") }
        return closed
    }

    private func audit(
        _ actor: Identity, _ action: String, id: Int64, chat: Int64, seq: Int64, at placement: Placement, on connection: PostgresConnection
    ) async throws {
        try await AuditTrail.record(
            actor, action, object: PublicID.encode(.report, id), at: placement,
            details: ["message": .text("\(PublicID.encode(.chat, chat)).\(seq)")], on: connection, logger: database.logger
        )
    }

    /// A report's columns and the tables they come from, in the order `reports(_:)` decodes them.
    private static let reportColumns = """
        r.id, r.chat_id, r.seq, r.reporter_id, r.reason, r.created_at, r.closed_at, r.closed_by,
        m.sender_id, m.text, m.deleted_at IS NOT NULL, s.region_code, s.municipality_id, s.id
        FROM message_reports r JOIN messages m ON m.chat_id = r.chat_id AND m.seq = r.seq JOIN schools s ON s.id = r.school_id
        """

    private func reports(_ rows: PostgresRowSequence) async throws -> [Report] {
        var reports: [Report] = []
        for try await row in rows.decode((Int64, Int64, Int64, Int64, String, Date, Date?, Int64?, Int64, String, Bool, String, Int64, Int64).self) {
            reports.append(
                Report(
                    id: row.0, chatID: row.1, seq: row.2, reporterID: row.3, reason: row.4, createdAt: row.5, closedAt: row.6, closedByID: row.7,
                    senderID: row.8, text: row.9, deleted: row.10, placement: Placement(regionCode: row.11, municipalityID: row.12, schoolID: row.13)
                ))
        }
        return reports
    }
}
