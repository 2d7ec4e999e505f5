import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import ZvonokLoadKit

/// Options every WebSocket scenario takes.
struct RunOptions: ParsableArguments {
    @Option(help: "Seconds the scenario sends (or, for connect, holds the connections).")
    var duration: Double = 10

    @Option(help: "Upper bound on the messages sent.")
    var messages: Int = 1_000_000

    @Option(help: "Write the final report as JSON to this file.")
    var json: String?

    @Option(help: "Reuse the people and tokens saved in this file, or create them and save them there.")
    var setup: String?

    @Option(help: "The server's process id: its CPU time and memory are read from /proc/PID.")
    var serverPid: Int32?

    @Option(help: "Event loop threads of the load generator.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(
        name: .customLong("node"),
        help:
            "A hub node's base URL to spread WebSocket connections over, person by person; repeat for several nodes sharing one database (loopback only). Default: --server."
    )
    var nodes: [String] = []

    func validate() throws {
        try nodes.forEach(ServerOptions.requireLoopback)
    }

    @Option(help: "Spread connections over the source addresses 127.0.0.1 … 127.0.0.N.")
    var sourceAddresses: Int = 1

    @Option(help: "Connection attempts in flight at once.")
    var connectConcurrency: Int = 256

    @Option(help: "Invite activations in flight at once while creating the setup.")
    var activationConcurrency: Int = 32

    @Option(help: "Characters of filler in each message text (after a time stamp).")
    var textSize: Int = 40

    @Flag(help: "No progress line.")
    var quiet = false

    func target(_ server: ServerOptions) -> Target {
        var target = Target(server: server.server)
        target.nodes = nodes
        target.sourceAddresses = sourceAddresses > 1 ? Target.loopbackSources(sourceAddresses) : []
        target.connectConcurrency = connectConcurrency
        target.threads = threads
        target.serverPID = serverPid
        target.progress = !quiet
        return target
    }

    /// Loads or builds the setup; returns it with an API client for the run (the caller shuts the client down).
    func prepare(_ server: ServerOptions, shape: SchoolShape) async throws -> (LoadSetup, HTTPAPI) {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, activationConcurrency))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let api = HTTPAPI(base: server.server, token: server.token ?? "", client: client)
        do {
            if server.token == nil, setup.map({ !FileManager.default.fileExists(atPath: $0) }) ?? true {
                throw ValidationError("--token (a ministry token) is needed to create the setup")
            }
            var builder = SetupBuilder(api: api, shape: shape)
            builder.concurrency = activationConcurrency
            builder.log = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
            return (try await builder.loadOrBuild(path: setup), api)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Prints the table, writes the JSON, and fails the command when a check failed.
    func finish(_ report: ScenarioReport) throws {
        print(report.table)
        if let json { try report.writeJSON(to: json) }
        if !report.passed { throw ExitCode(2) }
    }
}

/// `zvonok-load fanout`.
struct FanoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract: "K class chats of M members, all connected; open-loop senders at --rate, or closed loop with --window (durable throughput).",
        discussion: "Start the server with --send-rate 0 so that the per-person rate limit does not refuse the load."
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var options: RunOptions

    @Option(help: "Chats (classes).")
    var chats: Int = 334

    @Option(help: "Members per chat (one teacher, the rest students).")
    var members: Int = 30

    @Option(help: "Classes per school in the setup.")
    var classesPerSchool: Int = 40

    @Option(help: "Total messages per second (open loop).")
    var rate: Double = 1000

    @Option(help: "Closed loop: sends each sender keeps outstanding (0: open loop at --rate).")
    var window: Int = 0

    @Option(help: "Closed loop: how many senders (0: one per chat).")
    var senders: Int = 0

    @Option(help: "Seconds to wait after the last send for acks and deliveries.")
    var drain: Double = 10

    @Flag(help: "Every message carries a small file, uploaded before the run (start the server with a large --daily-upload-mib).")
    var files = false
    @Flag(help: "Send again, with the same cid, every send answered unavailable (a database failover) until acked, as a client does.")
    var retryUnavailable = false

    func run() async throws {
        let (setup, api) = try await options.prepare(server, shape: .classChats(chats, members: members, classesPerSchool: classesPerSchool))
        var scenario = FanoutScenario(target: options.target(server), setup: setup)
        scenario.api = api
        scenario.rate = rate
        scenario.window = window
        scenario.senders = senders
        scenario.seconds = options.duration
        scenario.messages = options.messages
        scenario.drain = drain
        scenario.textSize = options.textSize
        scenario.files = files
        scenario.retryUnavailable = retryUnavailable
        let report = try await scenario.run()
        try? await api.shutdown()
        try options.finish(report)
    }
}

/// `zvonok-load schoolday`.
struct SchooldayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schoolday",
        abstract: "A realistic mix: class (~30), parents' (~50) and school (~1,500) chats, bursts at breaks, reconnects with sync."
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var options: RunOptions

    @Option(help: "Schools.")
    var schools: Int = 1

    @Option(help: "Classes per school.")
    var classes: Int = 18

    @Option(help: "Students per class.")
    var students: Int = 28

    @Option(help: "Teachers per class.")
    var teachers: Int = 2

    @Option(help: "Guardians per student, on average.")
    var guardians: Double = 1.7

    @Option(help: "Messages per second during lessons.")
    var rate: Double = 100

    @Option(help: "Seconds of lesson between breaks.")
    var lesson: Double = 8

    @Option(help: "Seconds of each break.")
    var breakSeconds: Double = 2

    @Option(help: "Send rate during breaks, as a multiple of --rate.")
    var burst: Double = 5

    @Option(help: "Connections dropped and brought back per second.")
    var reconnects: Double = 5

    @Option(help: "Seconds to wait after the last send for everyone to reconnect, catch up and be acked.")
    var drain: Double = 15

    func run() async throws {
        let shape = SchoolShape(
            schools: schools, classesPerSchool: classes, studentsPerClass: students, teachersPerClass: teachers, guardiansPerStudent: guardians)
        let (setup, api) = try await options.prepare(server, shape: shape)
        var scenario = SchooldayScenario(target: options.target(server), setup: setup)
        scenario.api = api
        scenario.schedule = SendSchedule(rate: rate, lessonSeconds: lesson, breakSeconds: breakSeconds, breakFactor: burst)
        scenario.reconnectsPerSecond = reconnects
        scenario.seconds = options.duration
        scenario.messages = options.messages
        scenario.drain = drain
        scenario.textSize = options.textSize
        let report = try await scenario.run()
        try? await api.shutdown()
        try options.finish(report)
    }
}
