public import Foundation
import PostgresNIO

/// Reads the audit log of administrative changes, for the admins above where each change happened.
public struct AuditStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The part of the log a reader may see: everything (the ministry), or one region, municipality or school.
    public enum Scope: Sendable, Equatable {
        case everything
        case region(String)
        case municipality(Int64)
        case school(Int64)
    }

    /// What to narrow a page to besides the scope.
    public struct Filter: Sendable {
        /// Only changes made at or after this time.
        public var since: Date?
        /// Only changes made by this person.
        public var actorID: Int64?
        /// Only changes of this kind, such as `person.create`.
        public var action: String?

        public init(since: Date? = nil, actorID: Int64? = nil, action: String? = nil) {
            self.since = since
            self.actorID = actorID
            self.action = action
        }
    }

    /// Entries in `scope` matching `filter`, oldest first, after the entry with id `after`.
    public func entries(in scope: Scope, filter: Filter, after: Int64, limit: Int) async throws -> [AuditEntry] {
        let (region, municipality, school): (String?, Int64?, Int64?) =
            switch scope {
            case .everything: (nil, nil, nil)
            case .region(let code): (code, nil, nil)
            case .municipality(let id): (nil, id, nil)
            case .school(let id): (nil, nil, id)
            }
        let everything = scope == .everything
        let rows = try await database.query(
            """
            SELECT a.id, a.at, a.actor_id, p.name, p.role, a.action, a.object, a.details::text, a.region_code, a.municipality_id, a.school_id
            FROM audit_log a LEFT JOIN people p ON p.id = a.actor_id
            WHERE a.id > \(after)
              AND (\(everything) OR a.region_code = \(region) OR a.municipality_id = \(municipality) OR a.school_id = \(school))
              AND (\(filter.since)::timestamptz IS NULL OR a.at >= \(filter.since))
              AND (\(filter.actorID)::bigint IS NULL OR a.actor_id = \(filter.actorID))
              AND (\(filter.action)::text IS NULL OR a.action = \(filter.action))
            ORDER BY a.id LIMIT \(limit)
            """
        )
        var entries: [AuditEntry] = []
        let decoder = JSONDecoder()
        for try await row in rows.decode((Int64, Date, Int64?, String?, String?, String, String, String, String?, Int64?, Int64?).self) {
            var actor: AuditEntry.Actor?
            if let id = row.2, let name = row.3, let role = row.4 { actor = AuditEntry.Actor(id: id, name: name, role: role) }
            let details = try decoder.decode([String: AuditEntry.Value].self, from: Data(row.7.utf8))
            entries.append(
                AuditEntry(
                    id: row.0, at: row.1, actor: actor, action: row.5, object: row.6, details: details,
                    regionCode: row.8, municipalityID: row.9, schoolID: row.10
                )
            )
        }
        return entries
    }
}
