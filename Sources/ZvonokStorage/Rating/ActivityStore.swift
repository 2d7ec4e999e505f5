import PostgresNIO

/// Brings `activity_daily` and the rating's weekly roll-ups up to date with the activity queued by group commits,
/// edits and deletions (sql/007).
///
/// Every change to activity is appended to `activity_queue` in the transaction that makes it, so the group commit
/// never waits on another's activity rows; `applyQueued` moves the queue into `activity_daily` outside it. It runs
/// in the background every second, and at the start of every read of activity or the rating so that such a read
/// is exact. Any number of appliers may run at once: each queued row is applied exactly once.
public struct ActivityStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Applies everything queued and committed so far; returns how many queue rows it took.
    @discardableResult
    public func applyQueued() async throws -> Int {
        let rows = try await database.query("SELECT zvonok_apply_queued_activity()")
        return try await rows.decode(Int.self).first { _ in true } ?? 0
    }
}
