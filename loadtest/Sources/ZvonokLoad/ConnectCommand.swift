import ArgumentParser
import Foundation
import ZvonokLoadKit

/// `zvonok-load connect`: N idle connections, optionally over several processes (one process here may hold at most
/// 20,000 open files).
struct ConnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Open N connections, hold them idle for --duration seconds; report connect rate and server memory per connection."
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var options: RunOptions

    @Option(help: "Connections to open (one person each).")
    var connections: Int = 1000

    @Option(help: "Load-generator processes to spread the connections over (each at most 20,000 open files).")
    var processes: Int = 1

    @Option(help: .hidden)
    var worker: Int?

    @Option(help: .hidden)
    var workerReport: String?

    func run() async throws {
        let members = 30
        let shape = SchoolShape.classChats((connections + members - 1) / members, members: members)
        if let worker {
            try await runWorker(worker)
            return
        }
        let (setup, api) = try await options.prepare(server, shape: shape)
        try? await api.shutdown()
        let people = Array(setup.people.prefix(connections))
        if processes <= 1 {
            let scenario = ConnectScenario(target: options.target(server), people: people, hold: options.duration)
            try options.finish(try await scenario.run())
        } else {
            try await coordinate(setup: setup, people: people.count)
        }
    }

    /// One child process: its slice of the people.
    private func runWorker(_ index: Int) async throws {
        guard let path = options.setup, let reportPath = workerReport else { throw ValidationError("a worker needs --setup and --worker-report") }
        let setup = try LoadSetup.load(from: path)
        let all = Array(setup.people.prefix(connections))
        let slice = stride(from: index, to: all.count, by: processes).map { all[$0] }
        var target = options.target(server)
        target.serverPID = nil
        // Each process takes its own range of source addresses.
        if !target.sourceAddresses.isEmpty {
            let sources = target.sourceAddresses
            target.sourceAddresses = stride(from: index % sources.count, to: sources.count, by: processes).map { sources[$0] }
            if target.sourceAddresses.isEmpty { target.sourceAddresses = [sources[index % sources.count]] }
        }
        var scenario = ConnectScenario(target: target, people: slice, hold: options.duration)
        scenario.onConnected = { opened in
            try? "\(opened)".write(toFile: reportPath + ".connected", atomically: true, encoding: .utf8)
        }
        let report = try await scenario.run()
        try report.writeJSON(to: reportPath)
    }

    /// The parent: starts the workers, reads the server's memory once all have connected, and sums their reports.
    private func coordinate(setup: LoadSetup, people: Int) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zvonok-load-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let setupPath = options.setup ?? directory + "/setup.json"
        if options.setup == nil { try setup.save(to: setupPath) }
        let meter = options.serverPid.map(ProcessMeter.init)
        let rssBefore = meter?.residentBytes()
        let started = ContinuousClock.now
        var children: [Process] = []
        for index in 0..<processes {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            var arguments = [
                "connect", "--server", server.server, "--setup", setupPath, "--connections", "\(connections)",
                "--processes", "\(processes)", "--worker", "\(index)", "--worker-report", "\(directory)/\(index).json",
                "--duration", "\(options.duration)", "--threads", "\(options.threads)",
                "--source-addresses", "\(options.sourceAddresses)", "--connect-concurrency", "\(max(1, options.connectConcurrency / processes))",
            ]
            if index > 0 || options.quiet { arguments.append("--quiet") }
            child.arguments = arguments
            try child.run()
            children.append(child)
        }
        // All connected (or exited): read the server's memory while every connection is held.
        var rssAfter: Int?
        var connectSeconds = 0.0
        while true {
            let ready = (0..<processes).allSatisfy { FileManager.default.fileExists(atPath: "\(directory)/\($0).json.connected") }
            if ready || children.allSatisfy({ !$0.isRunning }) {
                connectSeconds = (ContinuousClock.now - started).seconds
                try await Task.sleep(for: .seconds(min(1, options.duration / 2)))
                rssAfter = meter?.residentBytes()
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        for child in children { child.waitUntilExit() }
        var reports: [ScenarioReport] = []
        for index in 0..<processes {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(index).json"))
            reports.append(try JSONDecoder().decode(ScenarioReport.self, from: data))
        }
        var report = ScenarioReport(scenario: "connect", counters: reports[0].counters)
        report.counters = reports.dropFirst().reduce(reports[0].counters) { $0.adding($1.counters) }
        report.parameters = reports[0].parameters
        report.parameters["connections"] = "\(people)"
        report.parameters["processes"] = "\(processes)"
        report.seconds = connectSeconds + options.duration
        let opened = report.counters.opened
        report.figures["connect seconds"] = connectSeconds
        report.figures["connects/s"] = Double(opened) / max(connectSeconds, 1e-9)
        report.addServerMemory(before: rssBefore, after: rssAfter, connections: opened)
        report.failures = reports.reduce(into: [:]) { sum, part in
            for (name, value) in part.failures { sum[name, default: 0] += value }
        }
        try options.finish(report)
    }
}
