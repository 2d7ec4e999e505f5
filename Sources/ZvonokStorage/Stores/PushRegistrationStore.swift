public import Foundation
import PostgresNIO
public import ZvonokCore

/// Where people receive notifications (sql/014): browsers' Web Push subscriptions and phones' device tokens, and the
/// server's VAPID key that every node signs with.
public struct PushRegistrationStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The VAPID private key (a raw P-256 scalar): the one stored, or `fresh` stored now when there is none yet.
    /// Nodes racing to make it all end up with the first one stored.
    public func vapidPrivateKey(orStore fresh: Data) async throws -> Data {
        let rows = try await database.query(
            """
            WITH made AS (INSERT INTO push_vapid_keys (private_key) VALUES (\(fresh)) ON CONFLICT (id) DO NOTHING RETURNING private_key)
            SELECT private_key FROM made UNION ALL SELECT private_key FROM push_vapid_keys
            """
        )
        for try await key in rows.decode(Data.self) { return key }
        throw ZvonokError.unavailable("the VAPID key could not be stored")
    }

    /// Keeps a browser's subscription for `person` (moving it from whoever held the endpoint before); returns its id.
    public func subscribe(_ person: Int64, endpoint: String, p256dh: Data, auth: Data) async throws -> Int64 {
        let rows = try await database.query(
            """
            INSERT INTO push_subscriptions (person_id, endpoint, p256dh, auth) VALUES (\(person), \(endpoint), \(p256dh), \(auth))
            ON CONFLICT (endpoint) DO UPDATE SET person_id = excluded.person_id, p256dh = excluded.p256dh, auth = excluded.auth
            RETURNING id
            """
        )
        for try await id in rows.decode(Int64.self) { return id }
        throw ZvonokError.unavailable("the subscription could not be stored")
    }

    /// Deletes one of `person`'s subscriptions; false when they have none with that id.
    public func unsubscribe(_ person: Int64, id: Int64) async throws -> Bool {
        try await deleted(try await database.query("DELETE FROM push_subscriptions WHERE id = \(id) AND person_id = \(person) RETURNING 1"))
    }

    /// Keeps a phone's token for `person` (moving it from whoever held it before); returns its id.
    public func register(_ person: Int64, platform: DevicePlatform, token: String) async throws -> Int64 {
        let rows = try await database.query(
            """
            INSERT INTO push_devices (person_id, platform, token) VALUES (\(person), \(platform.rawValue), \(token))
            ON CONFLICT (platform, token) DO UPDATE SET person_id = excluded.person_id
            RETURNING id
            """
        )
        for try await id in rows.decode(Int64.self) { return id }
        throw ZvonokError.unavailable("the device could not be stored")
    }

    /// Deletes one of `person`'s devices; false when they have none with that id.
    public func unregister(_ person: Int64, id: Int64) async throws -> Bool {
        try await deleted(try await database.query("DELETE FROM push_devices WHERE id = \(id) AND person_id = \(person) RETURNING 1"))
    }

    private func deleted(_ rows: PostgresRowSequence) async throws -> Bool {
        for try await _ in rows { return true }
        return false
    }
}
