import Foundation
import PostgresNIO
public import ZvonokCore

/// Uploads a whole school at once: upserts classes, staff, students, guardians, teacher assignments and guardian
/// links by `externalId` in one transaction, with set-based statements so that a school of 2,000 people takes a
/// handful of round trips. Rows are checked against the roster and the database before anything is written, so a
/// bad row is reported with its line and the rest still land (or, atomically, nothing does). A dry run plans the same
/// way and stops before writing, so its counts and refused rows are the ones the real upload would answer.
public struct RosterStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// What an upload did. Every row counts once: created, updated, unchanged or failed.
    public struct Outcome: Sendable {
        public var created = 0
        public var updated = 0
        public var unchanged = 0
        public var errors: [Roster.RowError] = []
        /// Invites for the people this upload created: external id, person id, code.
        public var invites: [(externalID: String, personID: Int64, code: String)] = []
        public var changes: [MembershipChange] = []
        /// What happens to each accepted row: its line, external id and action, in line order.
        public var rows: [(line: Int, externalID: String, action: RowAction)] = []
        public var failed: Int { errors.count }
    }

    /// What an upload does with an accepted row.
    public enum RowAction: String, Sendable {
        case created
        case updated
        case unchanged
    }

    /// Plans `roster` against the school as it is and, unless `dryRun`, applies it. A dry run writes nothing (no
    /// invites, no audit entry) and answers the counts and refused rows that applying would.
    public func upload(
        _ roster: Roster, to school: School, atomic: Bool, dryRun: Bool = false, inviteLifetime: Duration, by actor: Identity
    ) async throws -> Outcome {
        try await database.transaction { connection in
            // Uploads of one school take turns; other schools are not held up.
            try await connection.query("SELECT id FROM schools WHERE id = \(school.id) FOR UPDATE", logger: database.logger)
            var upload = try await RosterUpload.load(school: school, on: connection, logger: database.logger)
            upload.plan(roster)
            if atomic, !upload.outcome.errors.isEmpty {
                throw RosterRejected(errors: upload.outcome.errors)
            }
            if dryRun { return upload.outcome }
            try await upload.apply(inviteLifetime: inviteLifetime, on: connection, logger: database.logger)
            let outcome = upload.outcome
            let details: [String: AuditEntry.Value] = [
                "created": .number(outcome.created), "updated": .number(outcome.updated),
                "unchanged": .number(outcome.unchanged), "failed": .number(outcome.failed),
            ]
            try await AuditTrail.record(
                actor, "roster.upload", object: PublicID.encode(.school, school.id), at: school.placement, details: details, on: connection,
                logger: database.logger)
            return outcome
        }
    }
}

/// An atomic upload with refused rows: nothing was written.
public struct RosterRejected: Error, Sendable {
    public let errors: [Roster.RowError]
}
