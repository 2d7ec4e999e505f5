import ArgumentParser
import ZvonokLoadKit

/// `zvonok-load`: drives a running Zvonok server through its public API only, and prints what it measured.
@main
struct ZvonokLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zvonok-load",
        abstract: "Load generator and benchmarks for a running Zvonok server (loopback only).",
        subcommands: [ConnectCommand.self, FanoutCommand.self, SchooldayCommand.self, RosterBenchmark.self, FilesBenchmark.self]
    )
}

/// Where the server is and how to get in.
struct ServerOptions: ParsableArguments {
    @Option(help: "The server's base URL; loopback addresses only.")
    var server: String = "http://127.0.0.1:8080"

    @Option(help: "A ministry token (`zvonok token --role ministry`); needed unless a saved --setup is reused.")
    var token: String?

    func validate() throws {
        try Self.requireLoopback(server)
    }

    /// Refuses a URL whose host is not a loopback address: the load generator never loads anything else.
    static func requireLoopback(_ url: String) throws {
        let host = url.split(separator: "/").dropFirst().first.map { String($0.split(separator: ":").first ?? "") } ?? ""
        guard host == "localhost" || host.hasPrefix("127.") || host == "[::1]" else {
            throw ValidationError("the load generator only talks to loopback addresses (127.0.0.0/8, localhost, [::1])")
        }
    }

    func requireToken() throws -> String {
        guard let token else { throw ValidationError("--token (a ministry token) is needed to create the setup") }
        return token
    }

    /// Runs `body` with an HTTP client of its own on the server, shut down afterwards however `body` ends.
    func withAPI(_ body: (HTTPAPI) async throws -> Void) async throws {
        let api = HTTPAPI(base: server, token: try requireToken())
        do {
            try await body(api)
        } catch {
            try? await api.shutdown()
            throw error
        }
        try await api.shutdown()
    }
}
