import ArgumentParser
import ZvonokStorage

/// `zvonok migrate`: applies `sql/` and exits.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the SQL migrations in sql/ and exit.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let logger = common.makeLogger()
        let session = try await common.openDatabase(logger: logger)
        let database = Database(url: session.url, logger: logger)
        try await session.withRunningClient(database) {
            try await database.migrate()
        }
    }
}
