import Logging
import PostgresNIO
import ZvonokCore

/// PostgreSQL LISTEN/NOTIFY, the only channel between Zvonok nodes.
extension Database {
    /// Announces `payloads` on `channel` in one statement (each at most 8,000 bytes, PostgreSQL's limit). Sent
    /// outside the committing transaction: a NOTIFY inside it would take PostgreSQL's instance-wide notification
    /// lock for the whole commit and serialize the group commits of every node.
    public func notify(_ channel: String, _ payloads: [String]) async throws {
        guard !payloads.isEmpty else { return }
        try await query(Self.notification(on: channel, payloads))
    }

    static func notification(on channel: String, _ payloads: [String]) -> PostgresQuery {
        "SELECT pg_notify(\(channel), p) FROM unnest(\(payloads)::text[]) AS p"
    }

    /// Keeps a payload too long for NOTIFY (over 8,000 bytes) in `relay_payloads` and returns its id, for the
    /// listeners to read back with `storedPayload(_:)`.
    public func storePayload(_ payload: String) async throws -> Int64 {
        let rows = try await query("INSERT INTO relay_payloads (payload) VALUES (\(payload)) RETURNING id")
        for try await id in rows.decode(Int64.self) { return id }
        throw ZvonokError.unavailable("the database kept no payload")
    }

    /// A payload kept by `storePayload(_:)`, or nil once pruned.
    public func storedPayload(_ id: Int64) async throws -> String? {
        let rows = try await query("SELECT payload FROM relay_payloads WHERE id = \(id)")
        for try await payload in rows.decode(String.self) { return payload }
        return nil
    }

    /// Forgets kept payloads older than `age`.
    public func pruneStoredPayloads(olderThan age: Duration) async throws {
        try await query("DELETE FROM relay_payloads WHERE created_at < now() - make_interval(secs => \(Double(age.components.seconds)))")
    }

    /// The `application_name` of a listening connection, as `pg_stat_activity` shows it.
    public static let listenerName = "zvonok-listener"

    /// Listens on `channel` on one pooled connection until the task is cancelled or the connection fails (then it
    /// throws). `listening` runs once the server confirmed the LISTEN, before the first notification, with a sender
    /// of notifications over the same connection.
    ///
    /// The connection is closed afterwards rather than handed back to the pool: a listener given up on may sit on
    /// a connection that is open but silent, and the pool would lend that same connection to the next LISTEN.
    public func listen(
        _ channel: String,
        listening: @Sendable (NotificationSender) async -> Void,
        handle: @Sendable (String) async -> Void
    ) async throws {
        try await pools.current().withConnection { connection in
            let token = pools.lend(connection)
            defer { pools.giveBack(token) }
            do {
                // Named, so that operators (and the tests that cut it) find the listening connection, whose last
                // statement is usually a NOTIFY sent over it.
                try await connection.query("SET application_name TO \(unescaped: "'\(Self.listenerName)'")", logger: logger)
                try await connection.listen(on: channel) { notifications in
                    await listening(NotificationSender(connection: connection, logger: logger))
                    for try await notification in notifications { await handle(notification.payload) }
                }
            } catch {
                try? await connection.close()
                throw error
            }
            try? await connection.close()
        }
    }
}

/// Sends notifications over a listening connection: no lease, no helper task, nothing to wait for but the server's
/// answer; valid while the connection listens (a closed connection fails the send).
public struct NotificationSender: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    /// Announces `payloads` on `channel` in one statement, as `Database.notify` does.
    public func notify(_ channel: String, _ payloads: [String]) async throws {
        guard !payloads.isEmpty else { return }
        try await connection.query(Database.notification(on: channel, payloads), logger: logger)
    }
}
