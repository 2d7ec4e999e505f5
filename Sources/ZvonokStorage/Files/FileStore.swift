public import Foundation
import NIOCore
import PostgresNIO
public import ZvonokCore

/// Files in chats (sql/012): uploads, the claim that attaches them to a message, who may fetch them, and the clean-up
/// of files nobody sent and of blobs no file uses. The bytes themselves are the `BlobStorage`'s.
public struct FileStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// An upload, its bytes already stored.
    public struct NewFile: Sendable {
        public var chatID: Int64
        public var uploaderID: Int64
        public var name: String
        public var blob: BlobKey
        public var size: Int64
        public var type: FileType
        public var width: Int?
        public var height: Int?
        public var preview: BlobKey?

        public init(
            chatID: Int64, uploaderID: Int64, name: String, blob: BlobKey, size: Int64, type: FileType, width: Int?, height: Int?, preview: BlobKey?
        ) {
            self.chatID = chatID
            self.uploaderID = uploaderID
            self.name = name
            self.blob = blob
            self.size = size
            self.type = type
            self.width = width
            self.height = height
            self.preview = preview
        }
    }

    /// A file as a download needs it: where its bytes are and who may have them.
    public struct StoredFile: Sendable {
        public let id: Int64
        public let chatID: Int64
        public let uploaderID: Int64
        public let name: String
        public let blob: BlobKey
        public let size: Int64
        public let type: FileType
        public let preview: BlobKey?
        public let previewSize: Int64?
        /// Whether a message carries it, and whether that message was deleted since.
        public let isPosted: Bool
        public let isMessageDeleted: Bool
    }

    // MARK: Uploads

    /// The kind of a chat `person` is a member of and whether it is archived (nobody posts there), or nil when they
    /// are not a member.
    public func membership(of person: Int64, in chat: Int64) async throws -> (kind: ChatKind, isArchived: Bool)? {
        let rows = try await database.query(
            "SELECT c.kind, c.archived_at IS NOT NULL FROM chat_members m JOIN chats c ON c.id = m.chat_id WHERE m.chat_id = \(chat) AND m.person_id = \(person)"
        )
        for try await (kind, archived) in rows.decode((String, Bool).self) { return ChatKind(rawValue: kind).map { ($0, archived) } }
        return nil
    }

    /// Bytes `person` uploaded since `since` (the daily quota).
    public func uploaded(by person: Int64, since: Date) async throws -> Int64 {
        Int64(try await number("SELECT coalesce(sum(size), 0)::bigint FROM files WHERE uploader_id = \(person) AND uploaded_at >= \(since)"))
    }

    /// Claims a blob for an upload before its bytes are written, so that the clean-up leaves it alone for the hour;
    /// returns whether its bytes are stored already (identical bytes uploaded before), when they need not be written.
    public func claimBlob(_ key: BlobKey, size: Int64) async throws -> Bool {
        let rows = try await database.query(
            """
            INSERT INTO file_blobs AS b (sha256, size) VALUES (\(key.buffer), \(size))
            ON CONFLICT (sha256) DO UPDATE SET claimed_at = now()
            RETURNING b.stored
            """)
        for try await stored in rows.decode(Bool.self) { return stored }
        return false
    }

    /// Records that the back end holds all of a blob's bytes.
    public func markStored(_ key: BlobKey) async throws {
        try await database.query("UPDATE file_blobs SET stored = true WHERE sha256 = \(key.buffer)")
    }

    /// Records an upload; returns it as messages will carry it.
    public func insert(_ file: NewFile) async throws -> AttachedFile {
        let rows = try await database.query(
            """
            INSERT INTO files (chat_id, uploader_id, name, sha256, size, type, width, height, preview_sha256)
            VALUES (\(file.chatID), \(file.uploaderID), \(file.name), \(file.blob.buffer), \(file.size), \(file.type.rawValue),
                    \(file.width), \(file.height), \(file.preview?.buffer))
            RETURNING id
            """)
        for try await id in rows.decode(Int64.self) {
            return AttachedFile(
                id: id, name: file.name, size: file.size, type: file.type, width: file.width, height: file.height, preview: file.preview != nil)
        }
        throw ZvonokError.unavailable("the upload was not recorded")
    }

    // MARK: Sending

    /// What one send names: its files, in the sender's order, and who sends them where under which `cid`.
    public struct Attachment: Sendable {
        public let ids: [Int64]
        public let chat: Int64
        public let sender: Int64
        public let cid: String

        public init(ids: [Int64], chat: Int64, sender: Int64, cid: String) {
            self.ids = ids
            self.chat = chat
            self.sender = sender
            self.cid = cid
        }
    }

    /// The files each send names, in the order given, as its message will carry them: a file is attached only by its
    /// uploader, only in the chat it was uploaded to, and only to one message (a retry of a send that committed finds
    /// its own files again); `invalid_argument` for a send naming any that is not the sender's to attach there. One
    /// read for all the sends: the group commit links the files to each message, with the same conditions, in its own
    /// statement (`MessageStore.commit`), so a send with files costs a share of one more round trip and no more WAL
    /// flushes.
    public func attachable(_ sends: [Attachment]) async throws -> [Result<[AttachedFile], ZvonokError>] {
        var requests: [Int32] = [], ids: [Int64] = [], chats: [Int64] = [], senders: [Int64] = [], cids: [String] = []
        for (index, send) in sends.enumerated() {
            for id in send.ids {
                requests.append(Int32(index))
                ids.append(id)
                chats.append(send.chat)
                senders.append(send.sender)
                cids.append(send.cid)
            }
        }
        var found = [[AttachedFile]](repeating: [], count: sends.count)
        if !ids.isEmpty {
            let rows = try await database.query(
                """
                SELECT w.request, f.id, f.name, f.size, f.type, f.width, f.height, f.preview_sha256 IS NOT NULL
                FROM unnest(\(requests)::int[], \(ids)::bigint[], \(chats)::bigint[], \(senders)::bigint[], \(cids)::text[])
                     WITH ORDINALITY AS w (request, id, chat, sender, cid, position)
                JOIN files f ON f.id = w.id
                WHERE f.uploader_id = w.sender AND f.chat_id = w.chat
                  AND (f.posted_seq IS NULL
                       OR EXISTS (SELECT 1 FROM message_receipts r
                                  WHERE r.sender_id = w.sender AND r.cid = w.cid AND r.chat_id = f.chat_id AND r.seq = f.posted_seq))
                ORDER BY w.position
                """)
            for try await (request, id, name, size, type, width, height, preview) in rows.decode(
                (Int32, Int64, String, Int64, String, Int?, Int?, Bool).self)
            {
                guard let type = FileType(rawValue: type) else { continue }
                found[Int(request)].append(AttachedFile(id: id, name: name, size: size, type: type, width: width, height: height, preview: preview))
            }
        }
        return zip(sends, found).map { send, files in
            guard files.count == send.ids.count else {
                return .failure(.invalidArgument("a file can be attached only by its uploader, in the chat it was uploaded to, and to one message"))
            }
            return .success(files)
        }
    }

    // MARK: Downloads

    /// The file behind an id, whoever asks; nil when there is none.
    public func file(_ id: Int64) async throws -> StoredFile? {
        let rows = try await database.query(
            """
            SELECT f.chat_id, f.uploader_id, f.name, f.sha256, f.size, f.type, f.preview_sha256, p.size, f.posted_seq IS NOT NULL,
                   f.message_deleted_at IS NOT NULL
            FROM files f LEFT JOIN file_blobs p ON p.sha256 = f.preview_sha256
            WHERE f.id = \(id)
            """)
        for try await (chat, uploader, name, sha, size, type, preview, previewSize, posted, deleted) in rows.decode(
            (Int64, Int64, String, ByteBuffer, Int64, String, ByteBuffer?, Int64?, Bool, Bool).self)
        {
            guard let blob = BlobKey(bytes: Array(buffer: sha)), let type = FileType(rawValue: type) else { return nil }
            return StoredFile(
                id: id, chatID: chat, uploaderID: uploader, name: name, blob: blob, size: size, type: type,
                preview: preview.flatMap { BlobKey(bytes: Array(buffer: $0)) }, previewSize: previewSize, isPosted: posted,
                isMessageDeleted: deleted)
        }
        return nil
    }

    // MARK: Clean-up

    /// Forgets files nobody sent within the time (uploaded before `unpostedBefore`) and files of messages deleted
    /// before `deletedBefore`; returns how many. Both are found by a partial index, never by a scan of all files.
    public func removeExpired(unpostedBefore: Date, deletedBefore: Date) async throws -> Int {
        try await number(
            """
            WITH gone AS (
                DELETE FROM files
                WHERE (posted_seq IS NULL AND uploaded_at < \(unpostedBefore)) OR message_deleted_at < \(deletedBefore)
                RETURNING 1)
            SELECT count(*)::bigint FROM gone
            """)
    }

    /// Forgets the files of messages sent before `date`, whose history the retention drops (issue 20); their bytes
    /// go with the next clean-up. Returns how many.
    public func removeFiles(postedBefore date: Date) async throws -> Int {
        try await number("WITH gone AS (DELETE FROM files WHERE posted_at < \(date) RETURNING 1) SELECT count(*)::bigint FROM gone")
    }

    /// The one `bigint` a statement answers (a sum, or how many rows it removed); 0 when it answers no row.
    private func number(_ query: PostgresQuery) async throws -> Int {
        for try await value in try await database.query(query).decode(Int64.self) { return Int(value) }
        return 0
    }

    /// Removes up to `limit` blobs no file uses that no upload claimed since `claimedBefore`: their rows, and their
    /// bytes through `remove` while the rows are still locked, so that an upload of the same bytes waits and writes
    /// them anew. Returns how many.
    public func removeUnusedBlobs(claimedBefore: Date, limit: Int, remove: ([BlobKey]) async throws -> Void) async throws -> Int {
        try await database.transaction { connection in
            let rows = try await connection.query(
                """
                DELETE FROM file_blobs b
                WHERE b.sha256 IN (
                    SELECT sha256 FROM file_blobs c
                    WHERE c.claimed_at < \(claimedBefore)
                      AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = c.sha256)
                      AND NOT EXISTS (SELECT 1 FROM files f WHERE f.preview_sha256 = c.sha256)
                    LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING b.sha256
                """, logger: database.logger)
            var keys: [BlobKey] = []
            for try await sha in rows.decode(ByteBuffer.self) {
                if let key = BlobKey(bytes: Array(buffer: sha)) { keys.append(key) }
            }
            try await remove(keys)
            return keys.count
        }
    }
}
