import Foundation

/// `connect`: opens N connections, holds them idle, and reports the connect rate and the server's memory per
/// connection.
public struct ConnectScenario: Sendable {
    public var target: Target
    /// The people to connect, one connection each.
    public var people: [LoadSetup.Person]
    /// Seconds to hold the connections idle.
    public var hold: Double
    /// Called once every connection has been tried (for a coordinating parent process).
    public var onConnected: @Sendable (_ opened: Int) -> Void = { _ in }

    public init(target: Target, people: [LoadSetup.Person], hold: Double) {
        self.target = target
        self.people = people
        self.hold = hold
    }

    public func run() async throws -> ScenarioReport {
        let openFiles = raiseOpenFileLimit()
        let server = target.serverPID.map(ProcessMeter.init)
        let rssBefore = server?.residentBytes()
        let selfBefore = ProcessMeter.current.residentBytes()
        let run = LoadRun(target: target, people: people, context: RunContext(configuration: .init(), api: nil))
        let progress = run.startProgress("connect")
        let started = ContinuousClock.now
        let opened = await run.connect()
        let connectSeconds = (ContinuousClock.now - started).seconds
        onConnected(opened)
        try await Task.sleep(for: .seconds(hold))
        let rssAfter = server?.residentBytes()
        let selfAfter = ProcessMeter.current.residentBytes()
        progress?.cancel()

        var report = ScenarioReport(scenario: "connect", counters: run.counters)
        let latencies = try await run.latencies()
        await run.shutdown()
        report.seconds = connectSeconds + hold
        report.parameters = [
            "connections": "\(people.count)", "hold": "\(hold)", "sourceAddresses": "\(max(1, target.sourceAddresses.count))",
            "threads": "\(run.loops.count)", "openFileLimit": "\(openFiles)",
        ]
        report.figures["connect seconds"] = connectSeconds
        report.figures["connects/s"] = Double(opened) / max(connectSeconds, 1e-9)
        report.addServerMemory(before: rssBefore, after: rssAfter, connections: opened)
        if let selfBefore, let selfAfter {
            report.figures["load generator KiB per conn"] = Double(selfAfter - selfBefore) / 1024 / Double(max(opened, 1))
        }
        report.latencies["connect to ready"] = latencies.connect.summary
        report.failures = [
            "connect failures": report.counters.connectFailures,
            "unexpected closes": report.counters.unexpectedCloses,
            "closed during hold": max(0, opened - report.counters.open),
        ]
        return report
    }
}
