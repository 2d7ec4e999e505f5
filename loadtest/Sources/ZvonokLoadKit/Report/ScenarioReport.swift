import Foundation

/// What a scenario measured: printed as a table and written as JSON (`--json FILE`).
public struct ScenarioReport: Codable, Sendable {
    public var scenario: String
    public var date = ISO8601DateFormatter().string(from: Date())
    /// The options it ran with.
    public var parameters: [String: String] = [:]
    public var counters: Counters
    /// Seconds of the measured window (from the first send, or the first connect, to the end of the drain).
    public var seconds: Double = 0
    /// Derived figures, by name (rates per second, CPU, memory).
    public var figures: [String: Double] = [:]
    public var latencies: [String: LatencySummary] = [:]
    /// Correctness failures, by name; the run fails when any is above zero.
    public var failures: [String: Int] = [:]

    public var passed: Bool { failures.values.allSatisfy { $0 == 0 } }

    public init(scenario: String, counters: Counters) {
        self.scenario = scenario
        self.counters = counters
    }

    /// The final table.
    public var table: String {
        var lines: [String] = ["", "== zvonok-load \(scenario) — \(passed ? "PASSED" : "FAILED") =="]
        if !parameters.isEmpty {
            lines.append(parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        let c = counters
        lines.append(pad("window (s)") + String(format: " %12.1f", seconds))
        for (name, value) in [
            ("connections opened", c.opened), ("connections open at end", c.open), ("connect failures", c.connectFailures),
            ("sent", c.sent), ("acked", c.acked), ("delivered", c.delivered), ("error frames", c.errorFrames), ("unavailable, retried", c.retried),
            ("unanswered, sent again", c.resent),
            ("rate_limited", c.rateLimited), ("unexpected closes", c.unexpectedCloses), ("4008 closes", c.slowConsumerCloses),
            ("reconnects", c.reconnects), ("syncs", c.syncs), ("history catch-ups", c.historySyncs),
        ] where value != 0 || ["sent", "acked", "delivered", "connections opened"].contains(name) {
            lines.append(pad(name) + String(format: " %12d", value))
        }
        for (name, value) in figures.sorted(by: { $0.key < $1.key }) {
            lines.append(pad(name) + String(format: " %12.2f", value))
        }
        if !latencies.isEmpty {
            lines.append(
                pad("latency (ms)")
                    + ["count", "p50", "p90", "p99", "p99.9", "max"].map { " " + String(repeating: " ", count: 9 - $0.count) + $0 }.joined())
            for (name, l) in latencies.sorted(by: { $0.key < $1.key }) {
                lines.append(pad(name) + String(format: " %9d %9.2f %9.2f %9.2f %9.2f %9.2f", l.count, l.p50, l.p90, l.p99, l.p999, l.max))
            }
        }
        lines.append("checks: " + failures.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        return lines.joined(separator: "\n")
    }

    /// The server's memory before and after opening `connections`, and the difference per connection.
    public mutating func addServerMemory(before: Int?, after: Int?, connections: Int) {
        guard let before, let after else { return }
        figures["server RSS before (MiB)"] = Double(before) / 1_048_576
        figures["server RSS after (MiB)"] = Double(after) / 1_048_576
        figures["server KiB per connection"] = Double(after - before) / 1024 / Double(max(connections, 1))
    }

    private func pad(_ name: String) -> String {
        name.count >= 28 ? name : name + String(repeating: " ", count: 28 - name.count)
    }

    public func writeJSON(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }
}
