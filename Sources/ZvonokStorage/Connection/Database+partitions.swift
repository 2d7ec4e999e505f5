public import Foundation
import PostgresNIO

extension Database {
    /// Makes sure `messages` has its monthly partitions from the month before `day` to `monthsAhead` months after it;
    /// idempotent, and safe on several nodes at once. `migrate` calls it, and the server keeps calling it daily
    /// (`MessagePartitionKeeper`), so that messages never outrun their partitions.
    ///
    /// A month whose rows already landed in `messages_default` (a server that ran for months without creating
    /// partitions ahead) would make `CREATE TABLE … PARTITION OF` fail, and with it the start-up: those rows are moved
    /// into the new partition, which is then attached, in one transaction. This replaces the SQL function of
    /// sql/002, which could not.
    public func ensureMessagePartitions(around day: Date = Date(), monthsAhead: Int = 3) async throws {
        for month in MessagePartition.months(around: day, ahead: monthsAhead) {
            try await ensure(month)
        }
    }

    private func ensure(_ partition: MessagePartition) async throws {
        // Outside the pool's time bounds: moving a month of stranded rows may take long, and only start-up and the
        // background keeper wait for it. The advisory lock makes nodes starting together take turns.
        try await pools.current().withConnection { connection in
            try await connection.withTransaction(logger: logger) { transaction in
                try await transaction.query("SET LOCAL statement_timeout = 0", logger: logger)
                try await transaction.query("SELECT pg_advisory_xact_lock(\(MessagePartition.lockKey))", logger: logger)
                let exists = try await transaction.query("SELECT to_regclass(\(partition.name)) IS NOT NULL", logger: logger)
                guard try await exists.decode(Bool.self).first(where: { _ in true }) == false else { return }
                let stranded = try await transaction.query(
                    """
                    SELECT EXISTS (SELECT 1 FROM messages_default
                                   WHERE sent_at >= \(partition.start)::timestamptz AND sent_at < \(partition.end)::timestamptz)
                    """,
                    logger: logger
                )
                let statements =
                    try await stranded.decode(Bool.self).first(where: { _ in true }) == true
                    ? partition.creationMovingStrandedRows : [partition.creation]
                for statement in statements { try await transaction.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                let moved = statements.count > 1
                logger.info("Created a history partition", metadata: ["partition": "\(partition.name)", "movedFromDefault": "\(moved)"])
            }
        }
    }
}

/// One month of `messages`: its table's name and bounds, and the statements that make it. Identifiers cannot be
/// bound as parameters, so these are built from the month's numbers alone, never from input.
struct MessagePartition: Equatable {
    let year: Int
    let month: Int

    /// The months from the one before `day` (UTC) to `ahead` after it.
    static func months(around day: Date, ahead: Int) -> [MessagePartition] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month], from: day)
        let index = parts.year! * 12 + parts.month! - 1
        return (index - 1...index + ahead).map { MessagePartition(year: $0 / 12, month: $0 % 12 + 1) }
    }

    /// Serialises partition changes between nodes (an arbitrary constant: "zvonok partitions").
    static let lockKey: Int64 = 0x7A76_5F70_6172_7473

    var name: String { String(format: "messages_%04d_%02d", year, month) }
    var start: String { String(format: "%04d-%02d-01 00:00:00+00", year, month) }
    var end: String { month == 12 ? String(format: "%04d-01-01 00:00:00+00", year + 1) : String(format: "%04d-%02d-01 00:00:00+00", year, month + 1) }

    private var bounds: String { "FOR VALUES FROM ('\(start)') TO ('\(end)')" }
    private var inRange: String { "sent_at >= '\(start)' AND sent_at < '\(end)'" }

    var creation: String { "CREATE TABLE \(name) PARTITION OF messages \(bounds)" }

    /// Attaching checks that the default partition holds none of the month's rows, so they move first.
    var creationMovingStrandedRows: [String] {
        [
            "CREATE TABLE \(name) (LIKE messages INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
            "INSERT INTO \(name) SELECT * FROM messages_default WHERE \(inRange)",
            "DELETE FROM messages_default WHERE \(inRange)",
            "ALTER TABLE messages ATTACH PARTITION \(name) \(bounds)",
        ]
    }
}
