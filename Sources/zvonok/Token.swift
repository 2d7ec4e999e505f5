import ArgumentParser
import Logging
import ZvonokStorage

/// `zvonok token --role ministry`: mints the first ministry token; prints only the token.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a ministry account and print a bearer token for it (only the token, on standard output)."
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "The role of the account; only 'ministry' is minted here, everyone else activates an invite.")
    var role: String

    @Option(help: "The account's display name.")
    var name: String = "Министерство просвещения"

    func validate() throws {
        guard role == "ministry" else {
            throw ValidationError("only --role ministry is minted from the command line; other people activate invites")
        }
    }

    func run() async throws {
        var logger = common.makeLogger()
        // Standard output carries the token alone, so informational logs stay off it.
        logger.logLevel = max(logger.logLevel, .warning)
        let session = try await common.openDatabase(logger: logger)
        let database = Database(url: session.url, logger: logger)
        let token = try await session.withRunningClient(database) {
            try await database.migrate()
            return try await CredentialStore(database: database).mintMinistryToken(name: name)
        }
        print(token)
    }
}
