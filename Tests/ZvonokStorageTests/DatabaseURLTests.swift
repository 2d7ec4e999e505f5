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

    @Test func parsesTheMultiHostFormOfPgAutoFailover() throws {
        let url = try DatabaseURL("postgres://zvonok:pw@10.0.0.1:6001,db2,[::1]:6003/zvonok?target_session_attrs=read-write&sslmode=require")
        #expect(url.endpoints.map(\.description) == ["10.0.0.1:6001", "db2:5432", "[::1]:6003"])
        #expect(url.targetSession == .readWrite)
        #expect(url.configuration.host == "10.0.0.1")
        #expect(url.configuration.port == 6001)
        #expect(url.configuration.database == "zvonok")
        #expect(url.configuration(for: url.endpoints[1]).host == "db2")
        #expect(url.configuration(for: url.endpoints[1]).username == "zvonok")
        #expect(url.description.hasPrefix("postgres://zvonok:***@10.0.0.1:6001,db2,[::1]:6003/zvonok?"))
    }

    @Test func aSingleHostNeedsNoPrimaryUnlessAsked() throws {
        #expect(try DatabaseURL("postgres://x@h/db").targetSession == .any)
        #expect(try DatabaseURL("postgres://x@h/db?target_session_attrs=primary").targetSession == .readWrite)
        #expect(try DatabaseURL("postgres://x@h:7/db").endpoints.map(\.description) == ["h:7"])
    }

    @Test func refusesBrokenHostLists() {
        for bad in [
            "postgres://x@h1:1,,h2:2/db", "postgres://x@h1:1,h2:port/db", "postgres://x@h1:1,h2:70000/db", "postgres://x@h1,:5/db",
            "postgres://x@h1,h2/db?target_session_attrs=standby", "postgres://x@h1,h2/db?host=/tmp/sock",
        ] {
            #expect(throws: DatabaseURLError.self, "\(bad)") { try DatabaseURL(bad) }
        }
    }
}
