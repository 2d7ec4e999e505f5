public import Foundation
import PostgresNIO

/// Applies a `RetentionPolicy` at a given moment (issue 20): history older than the kept school years goes a whole
/// monthly partition at a time (with its files, through the hook; what the default partition holds of those years
/// goes row by row), deleted messages' text and moderation revisions
/// go after the moderation window, audit entries after their period, people removed longer than the grace period
/// are erased (`ErasureStore`), and archived chats whose reading time is over let their members go.
public struct RetentionStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Removes the files of a month of history about to be dropped; a failure keeps the month for the next sweep.
    public typealias FilesHook = @Sendable (DateInterval) async throws -> Void

    /// What one sweep removed.
    public struct Report: Sendable, Equatable {
        public var droppedPartitions: [String] = []
        /// Rows of the kept years' predecessors found in the default partition (sent where no month had a partition).
        public var defaultPartitionRowsDeleted = 0
        public var purgedTexts = 0
        public var purgedRevisions = 0
        public var auditEntriesDeleted = 0
        public var erased = 0
        public var archivedMembershipsEnded = 0

        /// Nothing removed.
        public init() {}
    }

    public func sweep(at now: Date, policy: RetentionPolicy, dropFiles: FilesHook) async throws -> Report {
        var report = Report()
        report.droppedPartitions = try await dropHistory(before: policy.historyStart(at: now), dropFiles: dropFiles)
        report.defaultPartitionRowsDeleted = try await deleteDefaultHistory(before: policy.historyStart(at: now), dropFiles: dropFiles)
        let moderationEnd = RetentionPolicy.before(now, policy.moderationWindow)
        report.purgedTexts = try await count(
            "UPDATE messages SET text = '' WHERE deleted_at < \(moderationEnd) AND text <> '' RETURNING 1")
        report.purgedRevisions = try await count("DELETE FROM message_revisions WHERE at < \(moderationEnd) RETURNING 1")
        report.auditEntriesDeleted = try await count(
            "DELETE FROM audit_log WHERE at < \(RetentionPolicy.before(now, policy.auditPeriod)) RETURNING 1")
        report.erased = try await ErasureStore(database: database).eraseRemoved(before: RetentionPolicy.before(now, policy.erasureGrace))
        report.archivedMembershipsEnded = try await count(
            """
            DELETE FROM chat_members m USING chats c
            WHERE c.id = m.chat_id AND c.archived_at IS NOT NULL AND c.readable_until < \(now) RETURNING 1
            """)
        return report
    }

    /// The rows a statement ending in `RETURNING 1` touched.
    private func count(_ statement: PostgresQuery) async throws -> Int {
        var rows = 0
        for try await _ in try await database.query(statement) { rows += 1 }
        return rows
    }

    /// Drops every monthly partition that ends by `start`, oldest first, after its files; returns their names.
    private func dropHistory(before start: Date, dropFiles: FilesHook) async throws -> [String] {
        let names = try await database.query(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'messages'::regclass ORDER BY 1")
        var expired: [MessagePartition] = []
        for try await name in names.decode(String.self) {
            if let partition = MessagePartition(name: name), partition.endDate <= start { expired.append(partition) }
        }
        for partition in expired {
            try await dropFiles(DateInterval(start: partition.startDate, end: partition.endDate))
            try await drop(partition)
        }
        return expired.map(\.name)
    }

    /// Deletes what the default partition holds from before `start` (messages sent in a month that had no partition of
    /// its own, such as history imported from before the partitions), after its files; returns how many rows.
    private func deleteDefaultHistory(before start: Date, dropFiles: FilesHook) async throws -> Int {
        let oldest = try await database.query("SELECT min(sent_at) FROM messages_default WHERE sent_at < \(start)")
        guard let first = try await oldest.decode(Date?.self).first(where: { _ in true }) ?? nil else { return 0 }
        try await dropFiles(DateInterval(start: first, end: start))
        return try await database.transaction { connection in
            try await connection.query("DELETE FROM message_receipts WHERE sent_at < \(start)", logger: database.logger)
            let rows = try await connection.query("DELETE FROM messages_default WHERE sent_at < \(start) RETURNING 1", logger: database.logger)
            var deleted = 0
            for try await _ in rows { deleted += 1 }
            return deleted
        }
    }

    private func drop(_ partition: MessagePartition) async throws {
        try await database.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(MessagePartition.lockKey))", logger: database.logger)
            try await connection.query(PostgresQuery(unsafeSQL: "DROP TABLE IF EXISTS \(partition.name)"), logger: database.logger)
            try await connection.query(
                "DELETE FROM message_receipts WHERE sent_at >= \(partition.startDate) AND sent_at < \(partition.endDate)",
                logger: database.logger)
        }
    }
}

extension MessagePartition {
    /// The month a partition's name (`messages_2026_09`) stands for; nil for any other table (the default partition).
    init?(name: String) {
        let parts = name.split(separator: "_")
        guard parts.count == 3, parts[0] == "messages", let year = Int(parts[1]), let month = Int(parts[2]), (1...12).contains(month) else {
            return nil
        }
        self.init(year: year, month: month)
    }

    var startDate: Date { Self.utc.date(from: DateComponents(year: year, month: month, day: 1))! }
    var endDate: Date { Self.utc.date(byAdding: .month, value: 1, to: startDate)! }

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
