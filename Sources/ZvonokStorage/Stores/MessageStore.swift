public import Foundation
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
    /// Invariants (design notes): per chat, `seq` runs 1, 2, 3, … with no gap — each chat row is locked (in
    /// ascending id order, so two batches never deadlock) and advanced by the number of its new messages; and
    /// `(sender, cid)` makes exactly one message — receipts are claimed first, and a claim that loses to another
    /// transaction (a retry racing on another node) returns the original message instead of a new one. Activity
    /// roll-ups for the rating are written in the same transaction.
    public func commit(_ batch: [PendingMessage]) async throws -> [CommittedMessage] {
        guard !batch.isEmpty else { return [] }
        return try await database.transaction { connection in
            // 1. Claim receipts; what is not claimed was sent before (or in this batch already).
            let claimed = try await claimReceipts(batch, on: connection)
            var fresh: [Int] = []
            var seen: Set<Key> = []
            for (index, message) in batch.enumerated() {
                let key = Key(sender: message.senderID, cid: message.cid)
                if claimed.contains(key), seen.insert(key).inserted { fresh.append(index) }
            }
            // 2. Sequence the fresh messages per chat, under the chats' row locks.
            let counts = Dictionary(fresh.map { (batch[$0].chatID, Int64(1)) }, uniquingKeysWith: +)
            var nextSeq = try await advance(counts, on: connection)
            var seqs: [Int: Int64] = [:]
            for index in fresh {
                let chat = batch[index].chatID
                seqs[index] = nextSeq[chat]!
                nextSeq[chat]! += 1
            }
            // 3. Store them, complete their receipts, count the activity.
            let sentAt = try await insert(fresh.map { (batch[$0], seqs[$0]!) }, on: connection)
            // 4. Retries get their original message back.
            let originals = try await originals(for: batch.indices.filter { seqs[$0] == nil }.map { batch[$0] }, on: connection)
            return batch.indices.map { index in
                let message = batch[index]
                if let seq = seqs[index] {
                    return CommittedMessage(chatID: message.chatID, seq: seq, senderID: message.senderID, cid: message.cid, text: message.text, sentAtMilliseconds: sentAt, isNew: true)
                }
                return originals[Key(sender: message.senderID, cid: message.cid)]
                    ?? CommittedMessage(chatID: message.chatID, seq: 0, senderID: message.senderID, cid: message.cid, text: message.text, sentAtMilliseconds: sentAt, isNew: false)
            }
        }
    }

    struct Key: Hashable {
        let sender: Int64
        let cid: String
    }

    private func claimReceipts(_ batch: [PendingMessage], on connection: PostgresConnection) async throws -> Set<Key> {
        let rows = try await connection.query(
            """
            INSERT INTO message_receipts (sender_id, cid, chat_id, seq, sent_at)
            SELECT u.sender_id, u.cid, u.chat_id, 0, now()
            FROM unnest(\(batch.map(\.senderID))::bigint[], \(batch.map(\.cid))::text[], \(batch.map(\.chatID))::bigint[]) AS u (sender_id, cid, chat_id)
            ORDER BY u.sender_id, u.cid
            ON CONFLICT (sender_id, cid) DO NOTHING
            RETURNING sender_id, cid
            """,
            logger: database.logger
        )
        var claimed: Set<Key> = []
        for try await (sender, cid) in rows.decode((Int64, String).self) { claimed.insert(Key(sender: sender, cid: cid)) }
        return claimed
    }

    /// Advances each chat's `last_seq` by its count; returns the first new seq of each chat.
    private func advance(_ counts: [Int64: Int64], on connection: PostgresConnection) async throws -> [Int64: Int64] {
        guard !counts.isEmpty else { return [:] }
        let chats = counts.keys.sorted()
        let rows = try await connection.query(
            """
            WITH locked AS (SELECT id FROM chats WHERE id = ANY (\(chats)) ORDER BY id FOR UPDATE)
            UPDATE chats c SET last_seq = c.last_seq + u.n
            FROM locked, unnest(\(chats)::bigint[], \(chats.map { counts[$0]! })::bigint[]) AS u (id, n)
            WHERE c.id = locked.id AND c.id = u.id
            RETURNING c.id, c.last_seq
            """,
            logger: database.logger
        )
        var first: [Int64: Int64] = [:]
        for try await (chat, last) in rows.decode((Int64, Int64).self) { first[chat] = last - counts[chat]! + 1 }
        return first
    }

    /// Inserts the sequenced messages, completes their receipts and counts activity; returns the commit time in ms.
    private func insert(_ messages: [(PendingMessage, Int64)], on connection: PostgresConnection) async throws -> Int64 {
        let clock = try await connection.query("SELECT (extract(epoch FROM now()) * 1000)::bigint", logger: database.logger)
        let now = try await clock.decode(Int64.self).first { _ in true } ?? 0
        guard !messages.isEmpty else { return now }
        let chats = messages.map(\.0.chatID), seqs = messages.map(\.1), senders = messages.map(\.0.senderID)
        let cids = messages.map(\.0.cid), texts = messages.map(\.0.text), counted = messages.map { MessageText.isCounted($0.0.text) }
        try await connection.query(
            """
            INSERT INTO messages (chat_id, seq, sent_at, sender_id, cid, text, counted)
            SELECT u.chat_id, u.seq, now(), u.sender_id, u.cid, u.text, u.counted
            FROM unnest(\(chats)::bigint[], \(seqs)::bigint[], \(senders)::bigint[], \(cids)::text[], \(texts)::text[], \(counted)::boolean[])
                 AS u (chat_id, seq, sender_id, cid, text, counted)
            """,
            logger: database.logger
        )
        try await connection.query(
            """
            UPDATE message_receipts r SET seq = u.seq
            FROM unnest(\(senders)::bigint[], \(cids)::text[], \(seqs)::bigint[]) AS u (sender_id, cid, seq)
            WHERE r.sender_id = u.sender_id AND r.cid = u.cid
            """,
            logger: database.logger
        )
        // Rows in key order, so that concurrent batches lock shared activity rows in the same order.
        try await connection.query(
            """
            INSERT INTO activity_daily (day, chat_id, person_id, messages, counted)
            SELECT (now() AT TIME ZONE 'UTC' + interval '3 hours')::date, u.chat_id, u.sender_id, count(*), count(*) FILTER (WHERE u.counted)
            FROM unnest(\(chats)::bigint[], \(senders)::bigint[], \(counted)::boolean[]) AS u (chat_id, sender_id, counted)
            GROUP BY u.chat_id, u.sender_id
            ORDER BY u.chat_id, u.sender_id
            ON CONFLICT (day, chat_id, person_id) DO UPDATE
                SET messages = activity_daily.messages + EXCLUDED.messages, counted = activity_daily.counted + EXCLUDED.counted
            """,
            logger: database.logger
        )
        return now
    }

    /// The messages that retried `cid`s made the first time.
    private func originals(for retries: [PendingMessage], on connection: PostgresConnection) async throws -> [Key: CommittedMessage] {
        guard !retries.isEmpty else { return [:] }
        let rows = try await connection.query(
            """
            SELECT r.sender_id, r.cid, m.chat_id, m.seq, m.text, (extract(epoch FROM m.sent_at) * 1000)::bigint
            FROM message_receipts r
            JOIN unnest(\(retries.map(\.senderID))::bigint[], \(retries.map(\.cid))::text[]) AS u (sender_id, cid)
                 ON r.sender_id = u.sender_id AND r.cid = u.cid
            JOIN messages m ON m.chat_id = r.chat_id AND m.seq = r.seq AND m.sent_at = r.sent_at
            """,
            logger: database.logger
        )
        var found: [Key: CommittedMessage] = [:]
        for try await (sender, cid, chat, seq, text, sentAt) in rows.decode((Int64, String, Int64, Int64, String, Int64).self) {
            found[Key(sender: sender, cid: cid)] = CommittedMessage(chatID: chat, seq: seq, senderID: sender, cid: cid, text: text, sentAtMilliseconds: sentAt, isNew: false)
        }
        return found
    }
}

extension MessageStore {
    /// A stored message as history shows it.
    public struct StoredMessage: Sendable, Equatable {
        public let chatID: Int64
        public let seq: Int64
        public let senderID: Int64
        /// Empty once deleted.
        public let text: String
        public let sentAt: Date
        public let editedAt: Date?
        public let deletedAt: Date?
    }

    /// Whether the person is a member of the chat (history and sync are for members only).
    public func isMember(_ personID: Int64, of chatID: Int64) async throws -> Bool {
        let rows = try await database.query("SELECT 1 FROM chat_members WHERE chat_id = \(chatID) AND person_id = \(personID)")
        for try await _ in rows { return true }
        return false
    }

    /// Up to `limit` messages of a chat with `seq` below `before` (or the newest), newest first.
    public func history(of chatID: Int64, before: Int64?, limit: Int) async throws -> [StoredMessage] {
        try await stored(
            """
            SELECT chat_id, seq, sender_id, CASE WHEN deleted_at IS NULL THEN text ELSE '' END, sent_at, edited_at, deleted_at
            FROM messages
            WHERE chat_id = \(chatID) AND seq < \(before ?? Int64.max)
            ORDER BY seq DESC LIMIT \(limit)
            """
        )
    }

    /// Up to `limit` messages of a chat with `seq` above `after`, oldest first: one batch of a `sync`.
    public func messages(of chatID: Int64, after: Int64, limit: Int) async throws -> [StoredMessage] {
        try await stored(
            """
            SELECT chat_id, seq, sender_id, CASE WHEN deleted_at IS NULL THEN text ELSE '' END, sent_at, edited_at, deleted_at
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
    public func messages(in ranges: [(chat: Int64, after: Int64, through: Int64)]) async throws -> [StoredMessage] {
        guard !ranges.isEmpty else { return [] }
        return try await stored(
            """
            SELECT m.chat_id, m.seq, m.sender_id, CASE WHEN m.deleted_at IS NULL THEN m.text ELSE '' END, m.sent_at, m.edited_at, m.deleted_at
            FROM unnest(\(ranges.map(\.chat))::bigint[], \(ranges.map(\.after))::bigint[], \(ranges.map(\.through))::bigint[]) AS r (chat_id, after, through)
            JOIN messages m ON m.chat_id = r.chat_id AND m.seq > r.after AND m.seq <= r.through
            ORDER BY m.chat_id, m.seq
            """
        )
    }

    private func stored(_ query: PostgresQuery) async throws -> [StoredMessage] {
        let rows = try await database.query(query)
        var messages: [StoredMessage] = []
        for try await (chat, seq, sender, text, sentAt, editedAt, deletedAt) in rows.decode((Int64, Int64, Int64, String, Date, Date?, Date?).self) {
            messages.append(StoredMessage(chatID: chat, seq: seq, senderID: sender, text: text, sentAt: sentAt, editedAt: editedAt, deletedAt: deletedAt))
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
