public import Foundation
import PostgresNIO

/// Who has a connection open on which node (sql/014), so that the notification sender of any node leaves out people
/// who are reading already. Each node writes its own rows and beats its heartbeat; a node whose heartbeat stopped
/// counts for nothing.
public struct PushPresenceStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Records that `online` have a connection on `node` and `offline` have none there any more, and beats the node's
    /// heartbeat.
    public func update(node: String, online: [Int64], offline: [Int64], now: Date) async throws {
        try await database.query(
            """
            WITH beat AS (
                INSERT INTO push_nodes (node, seen_at) VALUES (\(node), \(now)) ON CONFLICT (node) DO UPDATE SET seen_at = excluded.seen_at
            ), gone AS (
                DELETE FROM push_presence WHERE node = \(node) AND person_id = ANY (\(offline))
            )
            INSERT INTO push_presence (person_id, node) SELECT unnest(\(online)::bigint[]), \(node) ON CONFLICT DO NOTHING
            """
        )
    }

    /// Forgets a node that stops, with its presence.
    public func forget(node: String) async throws {
        try await database.query("DELETE FROM push_presence WHERE node = \(node)")
        try await database.query("DELETE FROM push_nodes WHERE node = \(node)")
    }
}
