import Crypto
public import Foundation
import Logging
import PostgresNIO
public import ZvonokCore

/// Invites and bearer tokens, stored only as SHA-256 hashes: activation, look-up on every request, revocation.
///
/// A token expires after `tokenLifetime` without use; each use slides its expiry (written at most once a day per
/// token — a tenth of the lifetime when that is shorter — so that a busy person's requests do not each write).
public struct CredentialStore: Sendable {
    let database: Database
    /// How long a token works without being used.
    public let tokenLifetime: Duration

    /// The default idle lifetime of a token: 90 days.
    public static let defaultTokenLifetime = Duration.seconds(90 * 24 * 3600)

    public init(database: Database, tokenLifetime: Duration = Self.defaultTokenLifetime) {
        self.database = database
        self.tokenLifetime = tokenLifetime
    }

    /// A signed-in session: the person, and which of their tokens it runs on.
    public struct Session: Sendable, Equatable {
        public let identity: Identity
        /// The token's id: revoking it ends this session's connections and no other.
        public let tokenID: Int64
    }

    /// The lifetime as seconds, for `make_interval`.
    private var lifetimeSeconds: Double { Double(tokenLifetime.components.seconds) }

    /// How far below a full lifetime a token's expiry may fall before a use writes it anew.
    private var slideSlackSeconds: Double { min(24 * 3600, lifetimeSeconds / 10) }

    /// The stored form of a secret: its SHA-256 digest. The secret itself is never written anywhere.
    static func hash(_ secret: String) -> Data {
        Data(SHA256.hash(data: Data(secret.utf8)))
    }

    /// Voids the people's unused invites and issues one fresh code each, in one transaction; returns the codes in
    /// order. Their tokens stay valid and nothing is audited: this renews the sign-in links of fixtures such as the
    /// demo region on every start, unlike an admin's reissue (`PeopleStore.reissueInvite`), which ends sessions.
    public func renewInvites(of personIDs: [Int64], lifetime: Duration) async throws -> [String] {
        try await database.transaction { connection in
            try await connection.query(
                "UPDATE invites SET voided_at = now() WHERE person_id = ANY (\(personIDs)) AND used_at IS NULL AND voided_at IS NULL",
                logger: database.logger
            )
            return try await Self.issueInvites(to: personIDs, lifetime: lifetime, on: connection, logger: database.logger)
        }
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
                INSERT INTO tokens (token_hash, person_id, expires_at)
                SELECT \(Self.hash(token)), id, now() + make_interval(secs => \(lifetimeSeconds)) FROM person RETURNING person_id
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
    public func activate(inviteCode: String) async throws -> (personID: Int64, token: String, expiresAt: Date)? {
        try await database.transaction { connection in
            guard let person = try await Self.useInvite(inviteCode, on: connection, logger: database.logger) else { return nil }
            let minted = try await mintToken(for: person.id, on: connection)
            try await AuditTrail.record(
                person.identity, "invite.activate", object: PublicID.encode(.person, person.id), at: person.placement,
                on: connection, logger: database.logger
            )
            return (person.id, minted.token, minted.expiresAt)
        }
    }

    /// Uses an invite code once inside a transaction: marks it used and its person registered (first time only).
    /// Nil for a code that is unknown, used, voided or expired, or whose person was removed.
    static func useInvite(_ inviteCode: String, on connection: PostgresConnection, logger: Logger) async throws -> Person? {
        // The row lock of the UPDATE makes the code single-use even when two requests race.
        let rows = try await connection.query(
            """
            WITH invite AS (
                UPDATE invites SET used_at = now()
                WHERE code_hash = \(Self.hash(inviteCode)) AND used_at IS NULL AND voided_at IS NULL AND expires_at > now()
                RETURNING person_id
            )
            UPDATE people p SET registered_at = coalesce(registered_at, now())
            WHERE id = (SELECT person_id FROM invite) AND removed_at IS NULL
            RETURNING \(unescaped: PeopleStore.columns)
            """,
            logger: logger
        )
        return try await PeopleStore.firstPerson(of: rows)
    }

    /// A token minted for a person inside a transaction: the secret (the only time it exists in clear), its id and
    /// its expiry.
    struct MintedToken: Sendable {
        let token: String
        let id: Int64
        let expiresAt: Date
    }

    /// Mints a token for a person inside a transaction, with this store's lifetime.
    func mintToken(for personID: Int64, on connection: PostgresConnection) async throws -> MintedToken {
        let token = Secret.token()
        let rows = try await connection.query(
            """
            INSERT INTO tokens (token_hash, person_id, expires_at)
            VALUES (\(Self.hash(token)), \(personID), now() + make_interval(secs => \(lifetimeSeconds)))
            RETURNING id, expires_at
            """,
            logger: database.logger
        )
        for try await (id, expiresAt) in rows.decode((Int64, Date).self) { return MintedToken(token: token, id: id, expiresAt: expiresAt) }
        throw ZvonokError.unavailable("the token was not stored")
    }

    /// The session a token opens, unless the token was revoked or has expired, or its person was removed. Slides the
    /// token's expiry in the same statement, when it has fallen a day (or a tenth of the lifetime) below a full one.
    public func session(token: String) async throws -> Session? {
        let rows = try await database.query(
            """
            WITH found AS (
                SELECT \(unescaped: PeopleStore.columns), t.id AS token_id, t.expires_at
                FROM tokens t JOIN people p ON p.id = t.person_id
                WHERE t.token_hash = \(Self.hash(token)) AND t.revoked_at IS NULL AND t.expires_at > now() AND p.removed_at IS NULL
            ), slid AS (
                UPDATE tokens t SET expires_at = now() + make_interval(secs => \(lifetimeSeconds))
                FROM found
                WHERE t.id = found.token_id AND found.expires_at < now() + make_interval(secs => \(lifetimeSeconds - slideSlackSeconds))
            )
            SELECT id, role, name, external_id, region_code, municipality_id, school_id, class_id, registered_at, token_id FROM found
            """
        )
        for try await row in rows.decode((Int64, String, String, String?, String?, Int64?, Int64?, Int64?, Date?, Int64).self) {
            let person = PeopleStore.person(row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8)
            return Session(identity: person.identity, tokenID: row.9)
        }
        return nil
    }

    /// Of the given sessions' tokens, those that no longer work: revoked, expired, or of a removed person. The hub
    /// asks this periodically for its open connections, so that a revocation whose notification was lost still ends
    /// them.
    public func endedSessions(among tokenIDs: [Int64]) async throws -> Set<Int64> {
        guard !tokenIDs.isEmpty else { return [] }
        let rows = try await database.query(
            """
            SELECT s.id FROM unnest(\(tokenIDs)::bigint[]) AS s (id)
            LEFT JOIN tokens t ON t.id = s.id
            LEFT JOIN people p ON p.id = t.person_id
            WHERE t.id IS NULL OR t.revoked_at IS NOT NULL OR t.expires_at <= now() OR p.removed_at IS NOT NULL
            """
        )
        var ended: Set<Int64> = []
        for try await id in rows.decode(Int64.self) { ended.insert(id) }
        return ended
    }

    /// Revokes one token (signing out) and records it; other tokens of the person keep working.
    public func revoke(_ session: Session) async throws {
        try await database.transaction { connection in
            try await connection.query(
                "UPDATE tokens SET revoked_at = now() WHERE id = \(session.tokenID) AND revoked_at IS NULL",
                logger: database.logger
            )
            try await AuditTrail.record(
                session.identity, "token.revoke", object: PublicID.encode(.person, session.identity.personID),
                at: session.identity.placement, on: connection, logger: database.logger
            )
        }
    }

    /// Revokes every token of `person` (an admin signing them out everywhere: a lost phone) and records it.
    public func revokeAll(of person: Person, by actor: Identity) async throws {
        try await database.transaction { connection in
            let revoked = try await Self.revokeAll(of: person.id, on: connection, logger: database.logger)
            try await AuditTrail.record(
                actor, "person.sign_out", object: PublicID.encode(.person, person.id), at: person.placement,
                details: ["tokens": .number(revoked)], on: connection, logger: database.logger
            )
        }
    }

    /// Revokes every working token of a person inside a transaction; returns how many.
    static func revokeAll(of personID: Int64, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        let rows = try await connection.query(
            "UPDATE tokens SET revoked_at = now() WHERE person_id = \(personID) AND revoked_at IS NULL RETURNING id",
            logger: logger
        )
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }
}
