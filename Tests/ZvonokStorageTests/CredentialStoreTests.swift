import Foundation
import PostgresNIO
import Testing
import ZvonokStorage
import ZvonokTestSupport

@Suite struct CredentialStoreTests {
    @Test func ministryTokenIsStoredOnlyAsItsHash() async throws {
        try await withTestDatabase { database in
            let token = try await CredentialStore(database: database).mintMinistryToken(name: "Ministry")
            #expect(token.hasPrefix("zv_"))
            let rows = try await database.client.query(
                "SELECT encode(t.token_hash, 'hex'), p.role FROM tokens t JOIN people p ON p.id = t.person_id"
            )
            var stored: [(String, String)] = []
            for try await row in rows.decode((String, String).self) { stored.append(row) }
            #expect(stored.count == 1)
            #expect(stored.first?.1 == "ministry")
            #expect(stored.first?.0.count == 64)
            #expect(stored.first?.0.contains(token) == false)
        }
    }
}
