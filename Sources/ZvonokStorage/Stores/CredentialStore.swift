import Crypto
import Foundation
import Logging
import PostgresNIO
public import ZvonokCore

/// Invites and bearer tokens, stored only as SHA-256 hashes: activation, look-up on every request, revocation.
public struct CredentialStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The stored form of a secret: its SHA-256 digest. The secret itself is never written anywhere.
    static func hash(_ secret: String) -> Data {
        Data(SHA256.hash(data: Data(secret.utf8)))
    }

    /// Issues a fresh invite code to each person, stored hashed, valid for `lifetime`; returns the codes in order.
    static func issueInvites(to personIDs: [Int64], lifetime: Duration, on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        let codes = personIDs.map { _ in InviteCode.generate() }
        let hashes = codes.map(SHA256.hex(of:))
        try await connection.query(
            """
            INSERT INTO invites (code_hash, person_id, expires_at)
            SELECT decode(u.hash, 'hex'), u.person_id, now() + make_interval(secs => \(Double(lifetime.components.seconds)))
            FROM unnest(\(hashes)::text[], \(personIDs)::bigint[]) AS u (hash, person_id)
            """,
            logger: logger
        )
        return codes
    }

    /// Creates a ministry account and a token for it; returns the token, the only time it exists in clear. The audit
    /// log records it with no actor: it comes from the command line, not the API.
    public func mintMinistryToken(name: String) async throws -> String {
        let token = Secret.token()
        try await database.transaction { connection in
            let rows = try await connection.query(
                """
                WITH person AS (
                    INSERT INTO people (role, name, registered_at) VALUES ('ministry', \(name), now()) RETURNING id
                )
                INSERT INTO tokens (token_hash, person_id) SELECT \(Self.hash(token)), id FROM person RETURNING person_id
                """,
                logger: database.logger
            )
            let id = try await rows.decode(Int64.self).first { _ in true } ?? 0
            try await AuditTrail.record(
                nil, "token.mint", object: PublicID.encode(.person, id), at: Placement(regionCode: ""),
                details: ["role": .text(Role.ministry.rawValue), "name": .text(name)], on: connection, logger: database.logger
            )
        }
        return token
    }

    /// Uses an invite code once: marks it used, marks the person registered (first time only), mints a token and
    /// records the activation in the audit log. Returns nil for a code that is unknown, used, voided or expired —
    /// the caller cannot tell which.
    public func activate(inviteCode: String) async throws -> (personID: Int64, token: String)? {
        let token = Secret.token()
        return try await database.transaction { connection in
            // One statement: the row lock of the UPDATE makes the code single-use even when two requests race.
            let rows = try await connection.query(
                """
                WITH invite AS (
                    UPDATE invites SET used_at = now()
                    WHERE code_hash = \(Self.hash(inviteCode)) AND used_at IS NULL AND voided_at IS NULL AND expires_at > now()
                    RETURNING person_id
                ), person AS (
                    UPDATE people p SET registered_at = coalesce(registered_at, now())
                    WHERE id = (SELECT person_id FROM invite) AND removed_at IS NULL
                    RETURNING \(unescaped: PeopleStore.columns)
                ), token AS (
                    INSERT INTO tokens (token_hash, person_id) SELECT \(Self.hash(token)), id FROM person
                )
                SELECT * FROM person
                """,
                logger: database.logger
            )
            for try await row in rows.decode((Int64, String, String, String?, String?, Int64?, Int64?, Int64?, Date?).self) {
                let person = PeopleStore.person(row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8)
                try await AuditTrail.record(
                    person.identity, "invite.activate", object: PublicID.encode(.person, person.id), at: person.placement,
                    on: connection, logger: database.logger
                )
                return (person.id, token)
            }
            return nil
        }
    }

    /// The person a token belongs to, unless the token was revoked or the person removed.
    public func identity(token: String) async throws -> Identity? {
        let rows = try await database.query(
            """
            SELECT \(unescaped: PeopleStore.columns) FROM tokens t JOIN people p ON p.id = t.person_id
            WHERE t.token_hash = \(Self.hash(token)) AND t.revoked_at IS NULL AND p.removed_at IS NULL
            """
        )
        for try await row in rows.decode((Int64, String, String, String?, String?, Int64?, Int64?, Int64?, Date?).self) {
            return PeopleStore.person(row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8).identity
        }
        return nil
    }

    /// Revokes one token (signing out) and records it; other tokens of the person keep working.
    public func revoke(token: String, of person: Identity) async throws {
        try await database.transaction { connection in
            try await connection.query(
                "UPDATE tokens SET revoked_at = now() WHERE token_hash = \(Self.hash(token)) AND revoked_at IS NULL",
                logger: database.logger
            )
            try await AuditTrail.record(
                person, "token.revoke", object: PublicID.encode(.person, person.personID), at: person.placement,
                on: connection, logger: database.logger
            )
        }
    }
}
