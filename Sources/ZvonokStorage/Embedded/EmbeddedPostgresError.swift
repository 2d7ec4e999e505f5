import Foundation

/// Why the embedded PostgreSQL cluster could not be set up, worded for the person who started Zvonok.
public struct EmbeddedPostgresError: Error, CustomStringConvertible, Sendable {
    public let description: String

    static func binariesMissing(searched: [String]) -> Self {
        let places = searched.isEmpty ? "" : " (looked in: \(searched.joined(separator: ", ")))"
        return Self(
            description: """
                PostgreSQL server programs (initdb, pg_ctl, postgres) were not found\(places). \
                Install them with `apt-get install postgresql`, or set ZVONOK_PG_BIN to the folder that holds them, \
                or give --database-url to use a PostgreSQL server you already run.
                """
        )
    }

    static func noPostgresUser() -> Self {
        Self(
            description: """
                Zvonok runs as root, and PostgreSQL refuses to run as root, but there is no `postgres` user to run it as. \
                Install the server with `apt-get install postgresql` (it creates that user), or run Zvonok as another user.
                """
        )
    }

    static func commandFailed(_ command: String, output: String) -> Self {
        Self(description: "`\(command)` failed: \(output.trimmingCharacters(in: .whitespacesAndNewlines))")
    }
}
