import Foundation
import PostgresNIO
public import ZvonokCore

/// History: the group commit that sequences and stores messages, and reading them back.
public struct MessageStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Makes a batch of messages durable in one transaction and returns them committed, in the batch's order.
    ///
    /// One call of `zvonok_commit_messages` (sql/006) does it all server-side, so the chats' row locks are held for
    /// the work and the commit only. Invariants (design notes): per chat, `seq` runs 1, 2, 3, … with no gap — each
    /// chat row is locked (in ascending id order, so two batches never deadlock) and advanced by the number of its
    /// new messages; and `(sender, cid)` makes exactly one message — a retry, or a claim lost to a retry racing on
    /// another node, gets the original message back instead of a new one. The batch's activity is appended to the
    /// activity queue in the same transaction (a crash keeps or loses both) and applied to `activity_daily` and the
    /// rating's roll-ups outside it, by `ActivityStore`, so that concurrent batches never wait on each other's
    /// activity rows.
    ///
    /// The database has the last word on who may post (sql/008): a sender who is not a member of the chat, or a
    /// chat that is archived, is refused on its own (`forbidden`), and the rest of the batch commits.
    public func commit(_ batch: [PendingMessage]) async throws -> [Result<CommittedMessage, ZvonokError>] {
        guard !batch.isEmpty else { return [] }
        // Files are linked to the new messages that carry them in the same statement (a data-modifying CTE runs
        // once, whether or not the query reads it): only the sender's own files of the message's chat that no message
        // carries yet, so a retry links nothing and a file raced for by two sends goes with one (the other's message
        // is answered with the files it got). `now()` is the transaction's start, the messages' `sent_at`.
        let files = batch.enumerated().flatMap { index, message in message.files.enumerated().map { ($0.element.id, index + 1, $0.offset + 1) } }
        let query: PostgresQuery = """
            WITH c AS (
                SELECT ord, chat_id, seq, sent_at_ms, is_new, text, refused
                FROM zvonok_commit_messages(\(batch.map(\.senderID))::bigint[], \(batch.map(\.cid))::text[], \(batch.map(\.chatID))::bigint[],
                                            \(batch.map(\.text))::text[], \(batch.map(\.isCounted))::boolean[])
            ), linked AS (
                UPDATE files f SET posted_seq = c.seq, posted_at = now(), position = u.position
                FROM unnest(\(files.map(\.0))::bigint[], \(files.map { Int64($0.1) })::bigint[], \(files.map { Int64($0.2) })::bigint[])
                     AS u (id, ord, position)
                JOIN c ON c.ord = u.ord
                WHERE f.id = u.id AND c.is_new AND NOT c.refused AND f.posted_seq IS NULL AND f.chat_id = c.chat_id
                  AND f.uploader_id = (\(batch.map(\.senderID))::bigint[])[c.ord]
                RETURNING f.id, u.ord
            )
            SELECT ord, chat_id, seq, sent_at_ms, is_new, text, refused, ARRAY(SELECT l.id FROM linked l WHERE l.ord = c.ord) FROM c
            """
        let database = self.database, logger = database.logger
        // One lease for the statement and its rows (the function's errors, a value refused by an index say, arrive
        // with the rows and are translated like the statement's); given up as `unavailable` when the primary is (see
        // `Database.abandoning`).
        let committed = try await database.abandoning {
            try await Self.commit(batch, query, on: database, logger: logger)
        }
        return try committed.map { message in
            guard let message else { throw ZvonokError.unavailable("the group commit did not answer for every message") }
            return message
        }
    }

    private static func commit(
        _ batch: [PendingMessage], _ query: PostgresQuery, on database: Database, logger: Logger
    ) async throws -> [Result<CommittedMessage, ZvonokError>?] {
        try await database.withConnection { connection in
            var committed = [Result<CommittedMessage, ZvonokError>?](repeating: nil, count: batch.count)
            let rows = try await connection.query(query, logger: logger)
            for try await (position, chat, seq, sentAt, isNew, text, refused, linked) in rows.decode(
                (Int, Int64, Int64, Int64, Bool, String?, Bool, [Int64]).self)
            {
                let message = batch[position - 1]
                committed[position - 1] =
                    refused
                    ? .failure(.forbidden("you can no longer post in this chat"))
                    : .success(
                        CommittedMessage(
                            chatID: chat, seq: seq, senderID: message.senderID, cid: message.cid, text: text ?? message.text,
                            files: message.files.filter { linked.contains($0.id) }, sentAtMilliseconds: sentAt, isNew: isNew
                        ))
            }
            return committed
        }
    }
}

extension MessageStore {
    /// Whether the person is a member of the chat (history and sync are for members only).
    public func isMember(_ personID: Int64, of chatID: Int64) async throws -> Bool {
        let rows = try await database.query("SELECT 1 FROM chat_members WHERE chat_id = \(chatID) AND person_id = \(personID)")
        for try await _ in rows { return true }
        return false
    }

    /// Up to `limit` messages of a chat with `seq` below `before` (or the newest), newest first.
    public func history(of chatID: Int64, before: Int64?, limit: Int) async throws -> [ChatMessage] {
        try await stored(
            """
            SELECT chat_id, seq, sender_id, CASE WHEN deleted_at IS NULL THEN text ELSE '' END, sent_at, edited_at, deleted_at,
                   CASE WHEN deleted_at IS NULL THEN zvonok_message_files(chat_id, seq) END
            FROM messages
            WHERE chat_id = \(chatID) AND seq < \(before ?? Int64.max)
            ORDER BY seq DESC LIMIT \(limit)
            """
        )
    }

    /// Up to `limit` messages of a chat with `seq` above `after`, oldest first: one batch of a `sync`.
    public func messages(of chatID: Int64, after: Int64, limit: Int) async throws -> [ChatMessage] {
        try await stored(
            """
            SELECT chat_id, seq, sender_id, CASE WHEN deleted_at IS NULL THEN text ELSE '' END, sent_at, edited_at, deleted_at,
                   CASE WHEN deleted_at IS NULL THEN zvonok_message_files(chat_id, seq) END
            FROM messages
            WHERE chat_id = \(chatID) AND seq > \(after)
            ORDER BY seq LIMIT \(limit)
            """
        )
    }

    /// The last seq of each chat.
    public func lastSeqs(of chats: [Int64]) async throws -> [Int64: Int64] {
        guard !chats.isEmpty else { return [:] }
        let rows = try await database.query("SELECT id, last_seq FROM chats WHERE id = ANY (\(chats))")
        var last: [Int64: Int64] = [:]
        for try await (chat, seq) in rows.decode((Int64, Int64).self) { last[chat] = seq }
        return last
    }

    /// The messages of several chats in given seq ranges (after, through], in chat and seq order: what other nodes
    /// announced, read back for this node's sessions.
    public func messages(in ranges: [(chat: Int64, after: Int64, through: Int64)]) async throws -> [ChatMessage] {
        guard !ranges.isEmpty else { return [] }
        return try await stored(
            """
            SELECT m.chat_id, m.seq, m.sender_id, CASE WHEN m.deleted_at IS NULL THEN m.text ELSE '' END, m.sent_at, m.edited_at, m.deleted_at,
                   CASE WHEN m.deleted_at IS NULL THEN zvonok_message_files(m.chat_id, m.seq) END
            FROM unnest(\(ranges.map(\.chat))::bigint[], \(ranges.map(\.after))::bigint[], \(ranges.map(\.through))::bigint[]) AS r (chat_id, after, through)
            JOIN messages m ON m.chat_id = r.chat_id AND m.seq > r.after AND m.seq <= r.through
            ORDER BY m.chat_id, m.seq
            """
        )
    }

    /// Milliseconds since 1970, rounded down as every timestamp of the API is.
    private static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The files of a message as `zvonok_message_files` (sql/012) gives them.
    private static func files(_ json: String) throws -> [AttachedFile] {
        try JSONDecoder().decode([AttachedFile].self, from: Data(json.utf8))
    }

    private func stored(_ query: PostgresQuery) async throws -> [ChatMessage] {
        let rows = try await database.query(query)
        var messages: [ChatMessage] = []
        for try await (chat, seq, sender, text, sentAt, editedAt, deletedAt, files) in rows.decode(
            (Int64, Int64, Int64, String, Date, Date?, Date?, String?).self)
        {
            messages.append(
                ChatMessage(
                    chatID: chat, seq: seq, senderID: sender, text: text, files: try files.map(Self.files) ?? [],
                    sentAtMilliseconds: Self.milliseconds(sentAt),
                    editedAtMilliseconds: editedAt.map(Self.milliseconds), isDeleted: deletedAt != nil
                )
            )
        }
        return messages
    }
}

extension MessageStore {
    /// The kind of a chat the person is a member of, or nil when they are not.
    public func membershipKind(of personID: Int64, in chatID: Int64) async throws -> ChatKind? {
        let rows = try await database.query(
            "SELECT c.kind FROM chat_members m JOIN chats c ON c.id = m.chat_id WHERE m.chat_id = \(chatID) AND m.person_id = \(personID)"
        )
        for try await kind in rows.decode(String.self) { return ChatKind(rawValue: kind) }
        return nil
    }
}
