public import Foundation
import Logging
import PostgresNIO
public import ZvonokCore

/// What decides who is notified, as people and schools set it (sql/014): mutes of chats, schools' quiet hours,
/// regions' time zones, and sends admins mark urgent.
public struct NotificationSettingsStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Mutes a chat for `person` until `until` (nil: until unmuted), or unmutes it when `muted` is false.
    public func mute(_ person: Int64, chat: Int64, muted: Bool, until: Date?) async throws {
        if muted {
            try await database.query(
                """
                INSERT INTO chat_mutes (person_id, chat_id, until) VALUES (\(person), \(chat), coalesce(\(until), 'infinity'::timestamptz))
                ON CONFLICT (person_id, chat_id) DO UPDATE SET until = excluded.until
                """
            )
        } else {
            try await database.query("DELETE FROM chat_mutes WHERE person_id = \(person) AND chat_id = \(chat)")
        }
    }

    /// A school's quiet hours: its own, or the default.
    public func quietHours(of school: Int64) async throws -> QuietHours {
        let rows = try await database.query("SELECT from_minute, to_minute, applies FROM school_quiet_hours WHERE school_id = \(school)")
        for try await (from, to, applies) in rows.decode((Int16, Int16, [String]).self) {
            return QuietHours(from: Int(from), to: Int(to), applies: applies.compactMap(Role.init(rawValue:)))
        }
        return .default
    }

    /// Sets a school's quiet hours, in the audit log.
    public func setQuietHours(_ hours: QuietHours, of school: Int64, by actor: Identity, at placement: Placement) async throws {
        try await database.transaction { connection in
            try await connection.query(
                """
                INSERT INTO school_quiet_hours (school_id, from_minute, to_minute, applies)
                VALUES (\(school), \(Int16(hours.from)), \(Int16(hours.to)), \(hours.applies.map(\.rawValue)))
                ON CONFLICT (school_id) DO UPDATE SET from_minute = excluded.from_minute, to_minute = excluded.to_minute, applies = excluded.applies
                """,
                logger: database.logger
            )
            try await AuditTrail.record(
                actor, "school.quiet_hours", object: PublicID.encode(.school, school), at: placement,
                details: ["from": .text(QuietHours.clock(hours.from)), "to": .text(QuietHours.clock(hours.to))], on: connection,
                logger: database.logger)
        }
    }

    /// Sets a region's time zone, in the audit log; false when PostgreSQL does not know the zone.
    public func setTimeZone(_ zone: String, of region: String, by actor: Identity) async throws -> Bool {
        try await database.transaction { connection in
            let rows = try await connection.query(
                """
                UPDATE regions SET time_zone = \(zone)
                WHERE code = \(region) AND EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = \(zone))
                RETURNING 1
                """,
                logger: database.logger
            )
            var changed = false
            for try await _ in rows { changed = true }
            guard changed else { return false }
            try await AuditTrail.record(
                actor, "region.time_zone", object: region, at: Placement(regionCode: region, municipalityID: nil, schoolID: nil),
                details: ["timeZone": .text(zone)], on: connection, logger: database.logger)
            return true
        }
    }

    /// Records that `sender`'s send `cid` to `chat` is urgent, before it is committed (the outbox row reads it), in
    /// the audit log at the chat's place.
    public func markUrgent(cid: String, chat: Int64, by sender: Identity) async throws {
        try await database.transaction { connection in
            let rows = try await connection.query(
                "SELECT coalesce(region_code, ''), municipality_id, school_id FROM chats WHERE id = \(chat)", logger: database.logger)
            var placement = sender.placement
            for try await (region, municipality, school) in rows.decode((String, Int64?, Int64?).self) {
                placement = Placement(regionCode: region, municipalityID: municipality, schoolID: school)
            }
            try await connection.query(
                "INSERT INTO urgent_sends (sender_id, cid) VALUES (\(sender.personID), \(cid)) ON CONFLICT DO NOTHING", logger: database.logger)
            try await AuditTrail.record(
                sender, "message.urgent", object: PublicID.encode(.chat, chat), at: placement, details: ["cid": .text(cid)], on: connection,
                logger: database.logger)
        }
    }

    /// `chat`'s members whom quiet hours may cover, grouped by school and role, with until when quiet hours hold each
    /// group at `now`: the time function runs once a group, not once a member.
    public func quietHours(ofChat chat: Int64, now: Date) async throws -> ChatQuietHours {
        let rows = try await database.query(
            """
            SELECT zvonok_quiet_until(g.school_id, g.role, \(now)), g.members, g.some_member
            FROM (SELECT p.school_id, p.role, count(*)::int AS members, min(p.id) AS some_member
                  FROM chat_members m JOIN people p ON p.id = m.person_id
                  WHERE m.chat_id = \(chat) AND p.role IN ('student', 'guardian', 'teacher') AND p.school_id IS NOT NULL
                  GROUP BY p.school_id, p.role) g
            """
        )
        var groups: [ChatQuietHours.Group] = []
        for try await (until, members, someMember) in rows.decode((Date?, Int, Int64).self) {
            groups.append(ChatQuietHours.Group(until: until, members: members, someMember: someMember))
        }
        return ChatQuietHours(groups: groups)
    }
}
