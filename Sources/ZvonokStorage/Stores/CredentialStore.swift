import Crypto
import Foundation
import PostgresNIO
import ZvonokCore

/// Bearer tokens: minted, stored as SHA-256 hashes, looked up and revoked.
public struct CredentialStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The stored form of a secret: its SHA-256 digest. The secret itself is never written anywhere.
    static func hash(_ secret: String) -> Data {
        Data(SHA256.hash(data: Data(secret.utf8)))
    }

    /// Creates a ministry account and a token for it; returns the token, the only time it exists in clear.
    public func mintMinistryToken(name: String) async throws -> String {
        let token = Secret.token()
        let hash = Self.hash(token)
        try await database.timed {
            try await database.client.query(
                """
                WITH person AS (
                    INSERT INTO people (role, name, registered_at) VALUES ('ministry', \(name), now()) RETURNING id
                )
                INSERT INTO tokens (token_hash, person_id) SELECT \(hash), id FROM person
                """,
                logger: database.logger
            )
        }
        return token
    }
}
