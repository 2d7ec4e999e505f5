public import Foundation
import PostgresNIO
public import ZvonokCore

/// The notification sender's three steps over `sql/014` (outbox → pending → deliveries), each one statement in its own
/// transaction, with rows taken `FOR UPDATE SKIP LOCKED` so that the sender of every node can work beside the others.
/// Every step takes the time as a parameter: the sender's clock decides, so that tests can move it.
public struct NotificationOutbox: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// One notification for one subscription or device, with what its payload says.
    public struct Delivery: Sendable, Equatable {
        public enum Target: Sendable, Equatable {
            /// A Web Push subscription: its endpoint and RFC 8291 keys (`p256dh` 65 bytes, `auth` 16).
            case web(id: Int64, endpoint: String, p256dh: Data, auth: Data)
            case device(id: Int64, platform: DevicePlatform, token: String)
        }

        public let id: Int64
        public let target: Target
        public let personID: Int64
        public let chatID: Int64
        public let chatTitle: String
        /// The last message the notification covers; with `target`, the idempotency key.
        public let seq: Int64
        public let senderName: String
        /// Messages it covers (several within the coalescing window, or held by quiet hours).
        public let count: Int
        /// The last message's text (empty once deleted); only end-to-end encrypted channels may carry it.
        public let text: String
        /// Sends made of it so far, this one included.
        public let attempts: Int
    }

    /// Step 1: turns up to `limit` committed messages into pending notifications for each member who has somewhere to
    /// receive them, has not muted the chat and has no connection open on a live node (whose connections got the
    /// messages as they came); messages to one person and chat add to one pending row, due `window` after the first
    /// (at once when urgent). Returns the messages taken.
    public func gather(now: Date, window: Duration, presenceFreshness: Duration, limit: Int) async throws -> Int {
        let due = now.addingTimeInterval(window.timeInterval)
        let liveSince = now.addingTimeInterval(-presenceFreshness.timeInterval)
        let rows = try await database.query(
            """
            WITH claimed AS (
                DELETE FROM notification_outbox
                WHERE id IN (SELECT id FROM notification_outbox ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING chat_id, seq, sender_id, urgent
            ), per_person AS (
                SELECT m.person_id, c.chat_id, max(c.seq) AS last_seq, (array_agg(c.sender_id ORDER BY c.seq DESC))[1] AS sender_id,
                       count(*)::int AS count, bool_or(c.urgent) AS urgent
                FROM claimed c
                JOIN chat_members m ON m.chat_id = c.chat_id AND m.person_id <> c.sender_id
                WHERE (EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.person_id = m.person_id)
                       OR EXISTS (SELECT 1 FROM push_devices d WHERE d.person_id = m.person_id))
                  AND NOT EXISTS (SELECT 1 FROM chat_mutes x WHERE x.person_id = m.person_id AND x.chat_id = c.chat_id AND x.until > \(now))
                  AND NOT EXISTS (SELECT 1 FROM push_presence pr JOIN push_nodes n ON n.node = pr.node
                                  WHERE pr.person_id = m.person_id AND n.seen_at > \(liveSince))
                GROUP BY m.person_id, c.chat_id
            ), added AS (
                INSERT INTO notification_pending AS p (person_id, chat_id, last_seq, sender_id, count, urgent, due_at)
                SELECT person_id, chat_id, last_seq, sender_id, count, urgent, CASE WHEN urgent THEN \(now) ELSE \(due) END FROM per_person
                ON CONFLICT (person_id, chat_id) DO UPDATE
                SET last_seq = greatest(p.last_seq, excluded.last_seq),
                    sender_id = CASE WHEN excluded.last_seq > p.last_seq THEN excluded.sender_id ELSE p.sender_id END,
                    count = p.count + excluded.count,
                    urgent = p.urgent OR excluded.urgent,
                    due_at = CASE WHEN excluded.urgent THEN least(p.due_at, excluded.due_at) ELSE p.due_at END
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM claimed)::int, (SELECT count(*) FROM added)::int
            """
        )
        for try await (taken, _) in rows.decode((Int, Int).self) { return taken }
        return 0
    }

    /// Step 2: pending notifications that are due become deliveries to each of their person's subscriptions and
    /// devices — unless the person has a connection open on a live node (dropped: they saw the messages) or has left
    /// the chat since (dropped: it is no longer theirs to hear of), or their
    /// school's quiet hours cover them and the notification is not urgent (held until the quiet hours end, while
    /// later messages add to its count). Returns the pending rows looked at.
    public func release(now: Date, presenceFreshness: Duration, limit: Int) async throws -> Int {
        let liveSince = now.addingTimeInterval(-presenceFreshness.timeInterval)
        let rows = try await database.query(
            """
            WITH due AS (
                SELECT person_id, chat_id FROM notification_pending WHERE due_at <= \(now) ORDER BY due_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
            ), judged AS (
                SELECT p.person_id, p.chat_id,
                       CASE WHEN p.urgent THEN NULL ELSE zvonok_quiet_until(pe.school_id, pe.role, \(now)) END AS quiet_until,
                       EXISTS (SELECT 1 FROM push_presence pr JOIN push_nodes n ON n.node = pr.node
                               WHERE pr.person_id = p.person_id AND n.seen_at > \(liveSince)) AS online,
                       NOT EXISTS (SELECT 1 FROM chat_members m WHERE m.chat_id = p.chat_id AND m.person_id = p.person_id) AS gone
                FROM notification_pending p JOIN due USING (person_id, chat_id) JOIN people pe ON pe.id = p.person_id
            ), held AS (
                UPDATE notification_pending p SET due_at = j.quiet_until
                FROM judged j
                WHERE j.quiet_until IS NOT NULL AND NOT j.online AND NOT j.gone AND p.person_id = j.person_id AND p.chat_id = j.chat_id
                RETURNING 1
            ), released AS (
                DELETE FROM notification_pending p USING judged j
                WHERE (j.quiet_until IS NULL OR j.online OR j.gone) AND p.person_id = j.person_id AND p.chat_id = j.chat_id
                RETURNING p.person_id, p.chat_id, p.last_seq, p.sender_id, p.count, j.online OR j.gone AS dropped
            ), delivered AS (
                INSERT INTO notification_deliveries (target, target_id, person_id, chat_id, seq, sender_id, count, next_at)
                SELECT 'web', s.id, r.person_id, r.chat_id, r.last_seq, r.sender_id, r.count, \(now)
                FROM released r JOIN push_subscriptions s ON s.person_id = r.person_id WHERE NOT r.dropped
                UNION ALL
                SELECT 'device', d.id, r.person_id, r.chat_id, r.last_seq, r.sender_id, r.count, \(now)
                FROM released r JOIN push_devices d ON d.person_id = r.person_id WHERE NOT r.dropped
                ON CONFLICT (target, target_id, chat_id, seq) DO NOTHING
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM due)::int, (SELECT count(*) FROM held)::int, (SELECT count(*) FROM delivered)::int
            """
        )
        for try await (looked, _, _) in rows.decode((Int, Int, Int).self) { return looked }
        return 0
    }

    /// Step 3: leases up to `limit` deliveries that are due for `lease` and returns them with their payloads' facts.
    /// A node that dies with a lease leaves the delivery to be taken again once it runs out.
    public func claim(now: Date, lease: Duration, limit: Int) async throws -> [Delivery] {
        let rows = try await database.query(
            """
            WITH claimed AS (
                UPDATE notification_deliveries d SET leased_until = \(now.addingTimeInterval(lease.timeInterval)), attempts = d.attempts + 1
                WHERE d.id IN (SELECT id FROM notification_deliveries
                               WHERE sent_at IS NULL AND next_at <= \(now) AND (leased_until IS NULL OR leased_until <= \(now))
                               ORDER BY next_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING d.*
            )
            SELECT c.id, c.target, c.target_id, c.person_id, c.chat_id, ch.title, c.seq, sp.name, c.count,
                   coalesce(CASE WHEN m.deleted_at IS NULL THEN m.text END, ''), c.attempts,
                   s.endpoint, s.p256dh, s.auth, dv.platform, dv.token
            FROM claimed c
            JOIN chats ch ON ch.id = c.chat_id
            JOIN people sp ON sp.id = c.sender_id
            LEFT JOIN messages m ON m.chat_id = c.chat_id AND m.seq = c.seq
            LEFT JOIN push_subscriptions s ON c.target = 'web' AND s.id = c.target_id
            LEFT JOIN push_devices dv ON c.target = 'device' AND dv.id = c.target_id
            ORDER BY c.id
            """
        )
        var deliveries: [Delivery] = []
        var orphans: [Int64] = []
        for try await row in rows.decode(
            (Int64, String, Int64, Int64, Int64, String, Int64, String, Int, String, Int, String?, Data?, Data?, String?, String?).self)
        {
            guard let target = Self.target(kind: row.1, id: row.2, endpoint: row.11, p256dh: row.12, auth: row.13, platform: row.14, token: row.15)
            else {
                orphans.append(row.0)
                continue
            }
            deliveries.append(
                Delivery(
                    id: row.0, target: target, personID: row.3, chatID: row.4, chatTitle: row.5, seq: row.6, senderName: row.7, count: row.8,
                    text: row.9, attempts: row.10))
        }
        if !orphans.isEmpty { try await database.query("DELETE FROM notification_deliveries WHERE id = ANY (\(orphans))") }
        return deliveries
    }

    /// The deliveries reached their push services; kept a day as the record that they were sent.
    public func sent(_ ids: [Int64], now: Date) async throws {
        guard !ids.isEmpty else { return }
        try await database.query("UPDATE notification_deliveries SET sent_at = \(now), leased_until = NULL WHERE id = ANY (\(ids))")
    }

    /// The delivery failed for now: tried again at `at`, or given up when nil.
    public func retry(_ id: Int64, at: Date?) async throws {
        if let at {
            try await database.query("UPDATE notification_deliveries SET next_at = \(at), leased_until = NULL WHERE id = \(id)")
        } else {
            try await database.query("DELETE FROM notification_deliveries WHERE id = \(id)")
        }
    }

    /// The push service said the subscription or device is gone: it is deleted with its unsent deliveries.
    public func forget(_ target: Delivery.Target) async throws {
        switch target {
        case .web(let id, _, _, _):
            try await database.query("DELETE FROM push_subscriptions WHERE id = \(id)")
            try await database.query("DELETE FROM notification_deliveries WHERE target = 'web' AND target_id = \(id) AND sent_at IS NULL")
        case .device(let id, _, _):
            try await database.query("DELETE FROM push_devices WHERE id = \(id)")
            try await database.query("DELETE FROM notification_deliveries WHERE target = 'device' AND target_id = \(id) AND sent_at IS NULL")
        }
    }

    /// Deletes the records of deliveries sent over a day ago, urgent marks of the same age and the presence of nodes
    /// that stopped beating.
    public func prune(now: Date, presenceFreshness: Duration) async throws {
        let dayAgo = now.addingTimeInterval(-86_400)
        try await database.query("DELETE FROM notification_deliveries WHERE sent_at < \(dayAgo)")
        try await database.query("DELETE FROM urgent_sends WHERE at < \(dayAgo)")
        let stale = now.addingTimeInterval(-presenceFreshness.timeInterval * 10)
        try await database.query("DELETE FROM push_presence WHERE node IN (SELECT node FROM push_nodes WHERE seen_at < \(stale))")
        try await database.query("DELETE FROM push_nodes WHERE seen_at < \(stale)")
    }

    private static func target(
        kind: String, id: Int64, endpoint: String?, p256dh: Data?, auth: Data?, platform: String?, token: String?
    ) -> Delivery.Target? {
        if kind == "web", let endpoint, let p256dh, let auth { return .web(id: id, endpoint: endpoint, p256dh: p256dh, auth: auth) }
        if kind == "device", let platform = platform.flatMap(DevicePlatform.init(rawValue:)), let token {
            return .device(id: id, platform: platform, token: token)
        }
        return nil
    }
}
