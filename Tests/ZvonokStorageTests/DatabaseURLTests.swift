import PostgresNIO
import Testing
import ZvonokStorage

@Suite struct DatabaseURLTests {
    @Test func parsesHostPortUserAndDatabase() throws {
        let url = try DatabaseURL("postgres://alice:s3cret@db.example:6543/zvonok")
        #expect(url.configuration.host == "db.example")
        #expect(url.configuration.port == 6543)
        #expect(url.configuration.username == "alice")
        #expect(url.configuration.password == "s3cret")
        #expect(url.configuration.database == "zvonok")
        #expect(!url.description.contains("s3cret"))
    }

    @Test func parsesLibpqSocketForm() throws {
        let url = try DatabaseURL("postgresql://zvonok@/zvonok?host=/tmp/sock&port=5433")
        #expect(url.configuration.unixSocketPath == "/tmp/sock/.s.PGSQL.5433")
        #expect(url.configuration.database == "zvonok")
    }

    @Test func refusesOtherSchemesAndBadPorts() {
        #expect(throws: DatabaseURLError.self) { try DatabaseURL("mysql://x@y/z") }
        #expect(throws: DatabaseURLError.self) { try DatabaseURL("postgres://x@y/z?port=abc") }
        #expect(throws: DatabaseURLError.self) { try DatabaseURL("postgres://x@y/z?sslmode=sometimes") }
    }
}
