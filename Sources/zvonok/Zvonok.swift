import ArgumentParser

/// The `zvonok` command: serves by default (`demo` serves a demo region); `migrate`, `token`, `rating` and `demo-data` are the operator's tools.
@main
struct Zvonok: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zvonok",
        abstract: "Zvonok: messaging for schools — WebSocket hub, registration API and the weekly rating.",
        discussion: """
            With no database URL, Zvonok starts its own PostgreSQL cluster from the system's server programs \
            in <data-dir>/postgres and stops it on exit. Every option can also be set by the environment \
            variable named in its help.
            """,
        subcommands: [Serve.self, Demo.self, Migrate.self, Token.self, RatingCommand.self, DemoDataCommand.self],
        defaultSubcommand: Serve.self
    )
}
