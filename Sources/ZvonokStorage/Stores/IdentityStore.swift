public import Foundation
import Logging
import PostgresNIO
public import ZvonokCore

/// Sign-in through an OpenID Connect provider (issue 22): the sign-ins under way, the links between a provider's
/// subject and a person the school listed, and the Zvonok sessions those sign-ins opened.
///
/// A subject is linked only through something the school entered — an invite code typed once, or a verified e-mail
/// address on the person — never guessed; with neither, nothing is created.
public struct IdentityStore: Sendable {
    let credentials: CredentialStore
    var database: Database { credentials.database }

    /// Mints tokens through `credentials`, so that a sign-in's token has the lifetime of an activation's.
    public init(credentials: CredentialStore) {
        self.credentials = credentials
    }

    // MARK: Sign-ins under way

    /// What the server sent the browser to the provider with, kept until the provider sends it back.
    public struct PendingSignIn: Sendable, Equatable {
        public let nonce: String
        public let codeVerifier: String
        public let redirectURI: String

        public init(nonce: String, codeVerifier: String, redirectURI: String) {
            self.nonce = nonce
            self.codeVerifier = codeVerifier
            self.redirectURI = redirectURI
        }
    }

    /// Keeps a sign-in under `state` (stored hashed) for `lifetime`, and drops those that expired an hour ago or more.
    public func begin(_ pending: PendingSignIn, state: String, lifetime: Duration) async throws {
        try await database.query(
            """
            WITH pruned AS (DELETE FROM oidc_sign_ins WHERE expires_at < now() - interval '1 hour')
            INSERT INTO oidc_sign_ins (state_hash, nonce, code_verifier, redirect_uri, expires_at)
            VALUES (\(CredentialStore.hash(state)), \(pending.nonce), \(pending.codeVerifier), \(pending.redirectURI),
                    now() + make_interval(secs => \(Double(lifetime.components.seconds))))
            """
        )
    }

    /// The sign-in kept under `state`, once: nil for a state that is unknown, already used or expired.
    public func take(state: String) async throws -> PendingSignIn? {
        // The row lock of the UPDATE makes a state single-use even when two callbacks race.
        let rows = try await database.query(
            """
            UPDATE oidc_sign_ins SET used_at = now()
            WHERE state_hash = \(CredentialStore.hash(state)) AND used_at IS NULL AND expires_at > now()
            RETURNING nonce, code_verifier, redirect_uri
            """
        )
        for try await (nonce, verifier, redirectURI) in rows.decode((String, String, String).self) {
            return PendingSignIn(nonce: nonce, codeVerifier: verifier, redirectURI: redirectURI)
        }
        return nil
    }

    // MARK: Signing in and linking

    /// Who the provider says signed in, from a validated ID token.
    public struct ProviderIdentity: Sendable, Equatable {
        public let issuer: String
        public let subject: String
        /// The provider's session (`sid`), which its back-channel logout may name.
        public let sessionID: String?
        /// An e-mail address the provider reports as verified (`email_verified` true), lower-cased; nil otherwise.
        public let verifiedEmail: String?

        public init(issuer: String, subject: String, sessionID: String?, verifiedEmail: String?) {
            self.issuer = issuer
            self.subject = subject
            self.sessionID = sessionID
            self.verifiedEmail = verifiedEmail?.lowercased()
        }
    }

    /// How a sign-in ended.
    public enum SignInOutcome: Sendable, Equatable {
        /// A token for the linked person; `linkedBy` says how the link was made now ("invite", "email"), nil when it
        /// existed before.
        case signedIn(personID: Int64, token: String, expiresAt: Date, linkedBy: String?)
        /// The invite code typed is unknown, used, voided or expired.
        case unknownInvite
        /// Several people carry the verified address: only an invite code can tell which.
        case ambiguous
        /// Nothing the school entered names this subject.
        case notListed
    }

    /// Signs a provider's subject in: through its link; else by linking it to the person of `inviteCode` (used up);
    /// else to the one unlinked person carrying its verified e-mail address. One transaction: nothing is linked or
    /// created unless a token is minted.
    public func signIn(_ identity: ProviderIdentity, inviteCode: String?) async throws -> SignInOutcome {
        do {
            return try await database.transaction { connection in
                var linkedBy: String?
                var person = try await linkedPerson(identity, on: connection)
                if person == nil {
                    let listed = try await listedPerson(identity, inviteCode: inviteCode, on: connection)
                    guard case .found(let found, let method) = listed else { return listed.outcome }
                    try await link(identity, to: found, by: method, on: connection)
                    (person, linkedBy) = (found, method)
                }
                guard let person else { return .notListed }
                let minted = try await credentials.mintToken(for: person.id, on: connection)
                try await connection.query(
                    """
                    INSERT INTO oidc_sessions (token_id, issuer, subject, sid)
                    VALUES (\(minted.id), \(identity.issuer), \(identity.subject), \(identity.sessionID))
                    """,
                    logger: database.logger
                )
                return .signedIn(personID: person.id, token: minted.token, expiresAt: minted.expiresAt, linkedBy: linkedBy)
            }
        } catch is AmbiguousAddress {
            return .ambiguous
        }
    }

    /// The person the subject is linked to, unless they were removed.
    private func linkedPerson(_ identity: ProviderIdentity, on connection: PostgresConnection) async throws -> Person? {
        let rows = try await connection.query(
            """
            SELECT \(unescaped: PeopleStore.columns)
            FROM linked_identities l JOIN people p ON p.id = l.person_id
            WHERE l.issuer = \(identity.issuer) AND l.subject = \(identity.subject) AND l.unlinked_at IS NULL AND p.removed_at IS NULL
            """,
            logger: database.logger
        )
        return try await PeopleStore.firstPerson(of: rows)
    }

    /// What a search for a listed person found.
    private enum Listed {
        case found(Person, method: String)
        case missing(SignInOutcome)

        var outcome: SignInOutcome {
            if case .missing(let outcome) = self { outcome } else { .notListed }
        }
    }

    /// The person of the invite code when one was typed, else the one unlinked person carrying the verified address.
    private func listedPerson(_ identity: ProviderIdentity, inviteCode: String?, on connection: PostgresConnection) async throws -> Listed {
        if let inviteCode {
            guard let person = try await CredentialStore.useInvite(inviteCode, on: connection, logger: database.logger) else {
                return .missing(.unknownInvite)
            }
            return .found(person, method: "invite")
        }
        guard let email = identity.verifiedEmail else { return .missing(.notListed) }
        let rows = try await connection.query(
            """
            UPDATE people p SET registered_at = coalesce(registered_at, now())
            WHERE p.id IN (
                SELECT id FROM people
                WHERE email = \(email) AND removed_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM linked_identities l
                                  WHERE l.person_id = people.id AND l.issuer = \(identity.issuer) AND l.unlinked_at IS NULL)
                ORDER BY id LIMIT 2 FOR UPDATE
            )
            RETURNING \(unescaped: PeopleStore.columns)
            """,
            logger: database.logger
        )
        let people = try await PeopleStore.people(of: rows)
        switch people.count {
        case 1: return .found(people[0], method: "email")
        case 0: return .missing(.notListed)
        // Rolled back by the caller's transaction: registering two people on a guess is what this refuses.
        default: throw AmbiguousAddress()
        }
    }

    /// Thrown inside the sign-in transaction to roll it back when an address names several people.
    private struct AmbiguousAddress: Error {}

    /// Links the subject to the person, replacing a link either had before (a removed person's, or the person's link
    /// to another subject of the same provider), and records both in the audit log.
    private func link(_ identity: ProviderIdentity, to person: Person, by method: String, on connection: PostgresConnection) async throws {
        let replaced = try await connection.query(
            """
            UPDATE linked_identities SET unlinked_at = now()
            WHERE unlinked_at IS NULL AND issuer = \(identity.issuer) AND (subject = \(identity.subject) OR person_id = \(person.id))
            RETURNING person_id
            """,
            logger: database.logger
        )
        for try await previous in replaced.decode(Int64.self) {
            try await AuditTrail.record(
                person.identity, "identity.unlink", object: PublicID.encode(.person, previous), at: person.placement,
                details: ["issuer": .text(identity.issuer), "reason": .text("relinked")], on: connection, logger: database.logger
            )
        }
        try await connection.query(
            """
            INSERT INTO linked_identities (issuer, subject, person_id, linked_by)
            VALUES (\(identity.issuer), \(identity.subject), \(person.id), \(method))
            """,
            logger: database.logger
        )
        try await AuditTrail.record(
            person.identity, "identity.link", object: PublicID.encode(.person, person.id), at: person.placement,
            details: ["issuer": .text(identity.issuer), "by": .text(method)], on: connection, logger: database.logger
        )
    }

    // MARK: Administration

    /// A person's working link to a provider.
    public struct Link: Sendable, Equatable {
        public let issuer: String
        /// "invite" or "email".
        public let linkedBy: String
        public let linkedAt: Date
    }

    /// The person's working links (at most one per provider).
    public func links(of personID: Int64) async throws -> [Link] {
        let rows = try await database.query(
            "SELECT issuer, linked_by, linked_at FROM linked_identities WHERE person_id = \(personID) AND unlinked_at IS NULL ORDER BY id"
        )
        var links: [Link] = []
        for try await (issuer, linkedBy, linkedAt) in rows.decode((String, String, Date).self) {
            links.append(Link(issuer: issuer, linkedBy: linkedBy, linkedAt: linkedAt))
        }
        return links
    }

    /// The verified e-mail address the school entered for the person, if any.
    public func email(of personID: Int64) async throws -> String? {
        let rows = try await database.query("SELECT email FROM people WHERE id = \(personID)")
        for try await email in rows.decode(String?.self) { return email }
        return nil
    }

    /// Sets (or, with nil, clears) the e-mail address a provider's verified address is matched against; audited.
    public func setEmail(_ email: String?, of person: Person, by actor: Identity) async throws {
        try await database.transaction { connection in
            try await connection.query("UPDATE people SET email = \(email?.lowercased()) WHERE id = \(person.id)", logger: database.logger)
            try await AuditTrail.record(
                actor, "person.email", object: PublicID.encode(.person, person.id), at: person.placement,
                details: ["set": .flag(email != nil)], on: connection, logger: database.logger
            )
        }
    }

    /// Unlinks the person from every provider and revokes the tokens those sign-ins opened; audited. Returns the
    /// revoked sessions (their connections must close), or nil when the person had no link.
    public func unlink(_ person: Person, by actor: Identity) async throws -> [EndedSession]? {
        try await database.transaction { connection in
            let rows = try await connection.query(
                "UPDATE linked_identities SET unlinked_at = now() WHERE person_id = \(person.id) AND unlinked_at IS NULL RETURNING issuer, subject",
                logger: database.logger
            )
            var subjects: [(issuer: String, subject: String)] = []
            for try await (issuer, subject) in rows.decode((String, String).self) { subjects.append((issuer, subject)) }
            guard !subjects.isEmpty else { return nil }
            var revoked: [EndedSession] = []
            for (issuer, subject) in subjects {
                revoked += try await revokeSessions(issuer: issuer, subject: subject, sid: nil, personID: person.id, on: connection)
                try await AuditTrail.record(
                    actor, "identity.unlink", object: PublicID.encode(.person, person.id), at: person.placement,
                    details: ["issuer": .text(issuer), "tokens": .number(revoked.count)], on: connection, logger: database.logger
                )
            }
            return revoked
        }
    }

    // MARK: Back-channel logout

    /// A revoked session: whose, and which token.
    public struct EndedSession: Sendable, Equatable {
        public let personID: Int64
        public let tokenID: Int64
    }

    /// Revokes the tokens that sign-ins of the provider's session `sid`, or of `subject` (every session), opened.
    public func endSessions(issuer: String, subject: String?, sid: String?) async throws -> [EndedSession] {
        try await database.transaction { connection in
            try await revokeSessions(issuer: issuer, subject: subject, sid: sid, personID: nil, on: connection)
        }
    }

    /// Revokes, inside a transaction, the working tokens that sign-ins through the provider opened, narrowed to a
    /// subject, a provider's session and a person where given.
    private func revokeSessions(
        issuer: String, subject: String?, sid: String?, personID: Int64?, on connection: PostgresConnection
    ) async throws -> [EndedSession] {
        let rows = try await connection.query(
            """
            UPDATE tokens t SET revoked_at = now()
            FROM oidc_sessions s
            WHERE s.token_id = t.id AND t.revoked_at IS NULL AND s.issuer = \(issuer)
              AND (\(subject)::text IS NULL OR s.subject = \(subject)) AND (\(sid)::text IS NULL OR s.sid = \(sid))
              AND (\(personID)::bigint IS NULL OR t.person_id = \(personID))
            RETURNING t.person_id, t.id
            """,
            logger: database.logger
        )
        var ended: [EndedSession] = []
        for try await (person, token) in rows.decode((Int64, Int64).self) { ended.append(EndedSession(personID: person, tokenID: token)) }
        return ended
    }
}
