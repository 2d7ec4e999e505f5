import Foundation
import NIOCore

/// `schoolday`: a school's day in miniature. Class chats of ~30, parents' chats of ~50, a school channel of ~1,500 in
/// which only staff post; a quiet rate during lessons and bursts at the breaks; people dropping off and coming back
/// all the time, catching up with `sync` (or, on a server without it, the history endpoint). Every message any
/// member was sent must arrive exactly once and in order, across all of that.
public struct SchooldayScenario: Sendable {
    public var target: Target
    public var setup: LoadSetup
    public var api: HTTPAPI?
    /// Messages per second during lessons; breaks run at `breakFactor` times this.
    public var schedule = SendSchedule(rate: 100, lessonSeconds: 8, breakSeconds: 2, breakFactor: 5)
    /// Connections dropped (and brought back after `away` seconds) per second.
    public var reconnectsPerSecond: Double = 5
    public var away: ClosedRange<Double> = 0.2...2
    public var seconds: Double = 30
    public var messages = Int.max
    public var drain: Double = 15
    public var textSize = 40
    /// Shares of sends by chat kind.
    public var mix: [(kind: String, weight: Double)] = [("class", 0.55), ("class_parents", 0.30), ("school_staff", 0.10), ("school", 0.05)]

    public init(target: Target, setup: LoadSetup) {
        self.target = target
        self.setup = setup
    }

    public func run() async throws -> ScenarioReport {
        raiseOpenFileLimit()
        var configuration = RunContext.Configuration()
        configuration.reconnects = true
        configuration.textSize = textSize
        configuration.nodes = target.endpoints.count
        configuration.mayPost = { role, kind in
            switch kind {
            case "class": role != .guardian
            case "class_parents": role != .student
            case "school", "school_staff": role == .teacher
            default: false
            }
        }
        let context = RunContext(configuration: configuration, api: api)
        let run = LoadRun(target: target, people: setup.people, context: context)
        let progress = run.startProgress("schoolday")
        let opened = await run.connect()

        let server = target.serverPID.map(ProcessMeter.init)
        let serverCPUBefore = server?.cpuSeconds()
        let before = run.counters
        let started = ContinuousClock.now
        let churning = ChurnFlag()
        let churn = Task { try await churnLoop(run, while: churning) }
        try await sendLoop(run)
        let sendSeconds = (ContinuousClock.now - started).seconds
        churning.stop()
        try await churn.value
        // Everyone comes back and catches up before the checks.
        let settled = await run.wait(upTo: .seconds(drain)) {
            let states =
                (try? await run.onEachLoop { _, people in
                    people.allSatisfy { ($0.isConnected && !$0.isSyncing && $0.outstanding == 0) || $0.away }
                        && !people.contains { $0.away }
                }) ?? [false]
            if states.allSatisfy({ $0 }) { return true }
            _ = try? await run.onEachLoop { _, people in
                people.filter { !$0.isConnected && !$0.away }.forEach { reconnect($0, run, after: 0) }
            }
            return false
        }
        let seconds = (ContinuousClock.now - started).seconds
        let serverCPU = difference(server?.cpuSeconds(), serverCPUBefore)
        progress?.cancel()

        let after = run.counters
        let latencies = try await run.latencies()
        let unseen = try await run.unseenAcknowledged()
        let ledgers = context.allLedgers
        var report = ScenarioReport(scenario: "schoolday", counters: after)
        await run.shutdown()
        report.seconds = seconds
        let kinds = Dictionary(grouping: ledgers.filter { $0.members > 0 }, by: { $0.members })
        report.parameters = [
            "shape": "\(setup.shape)",
            "rate": "\(schedule.rate) msg/s, ×\(schedule.breakFactor) in \(schedule.breakSeconds) s breaks every \(schedule.lessonSeconds) s",
            "reconnects/s": "\(reconnectsPerSecond)", "duration": "\(self.seconds)", "messages": messages == Int.max ? "unbounded" : "\(messages)",
            "chat sizes": kinds.keys.sorted().map { "\(kinds[$0]!.count)×\($0)" }.joined(separator: ","),
        ]
        let delivered = after.delivered - before.delivered
        report.figures["send seconds"] = sendSeconds
        report.figures["acks/s"] = Double(after.acked - before.acked) / max(seconds, 1e-9)
        report.figures["deliveries/s"] = Double(delivered) / max(seconds, 1e-9)
        if let serverCPU {
            report.figures["server CPU s"] = serverCPU
            if delivered > 0 { report.figures["server CPU µs/delivery"] = serverCPU * 1e6 / Double(delivered) }
        }
        report.latencies["send→ack"] = latencies.ack.summary
        report.latencies["send→each recipient"] = latencies.delivery.summary
        if target.endpoints.count > 1 { report.latencies["send→recipient on another node"] = latencies.crossNode.summary }
        report.failures = [
            "connect failures (initial)": setup.people.count - opened,
            "not reconnected and caught up": settled ? 0 : 1,
            "error frames": after.errorFrames,
            "gaps": after.gaps,
            "duplicates": after.duplicates,
            "reordered": after.reordered,
            "duplicate acks": ledgers.reduce(0) { $0 + $1.duplicateAcks },
            "lost acknowledged": unseen,
        ]
        return report
    }

    private func sendLoop(_ run: LoadRun) async throws {
        let loops = run.loops.count
        let share = schedule.share(loops)
        let start = NIODeadline.now().uptimeNanoseconds + 20_000_000
        let mix = self.mix
        let total = mix.reduce(0) { $0 + $1.weight }
        let drivers = try await run.onEachLoop { index, people in
            // Who may post where, by kind, on this loop.
            var candidates: [String: [(PersonState, String)]] = [:]
            for person in people {
                for chat in person.postable { candidates[chat.kind, default: []].append((person, chat.chat)) }
            }
            let quota = messages == Int.max ? Int.max : messages / loops + (index < messages % loops ? 1 : 0)
            var random = SystemRandomNumberGenerator()
            let driver = OpenLoopDriver(loop: run.loops[index], schedule: share, startNanos: start, seconds: seconds, quota: quota) { _, intended in
                var pick = Double.random(in: 0..<total, using: &random)
                var kind = mix[0].kind
                for entry in mix {
                    kind = entry.kind
                    pick -= entry.weight
                    if pick < 0 { break }
                }
                guard let choices = candidates[kind], !choices.isEmpty else { return }
                // Someone online: a few tries, then the slot passes (people who are away do not post).
                for _ in 0..<8 {
                    let (person, chat) = choices[Int.random(in: 0..<choices.count, using: &random)]
                    if person.isConnected, !person.away {
                        person.send(to: chat, intended: intended)
                        return
                    }
                }
            }
            driver.start()
            return driver.finished.futureResult
        }
        for driver in drivers { _ = try await driver.get() }
    }

    /// Every 100 ms, drops some connections (to come back after a while) and brings back any the server closed.
    private func churnLoop(_ run: LoadRun, while flag: ChurnFlag) async throws {
        let perTick = reconnectsPerSecond / 10 / Double(run.loops.count)
        let away = self.away
        let credit = UnsafeCredit(loops: run.loops.count)
        while flag.running {
            _ = try await run.onEachLoop { index, people in
                credit.values[index] += perTick
                while credit.values[index] >= 1 {
                    credit.values[index] -= 1
                    let online = people.filter { $0.isConnected && !$0.away && $0.outstanding == 0 && !$0.isSyncing }
                    guard let person = online.randomElement() else { break }
                    person.away = true
                    person.disconnect()
                    reconnect(person, run, after: Double.random(in: away))
                }
                people.filter { !$0.isConnected && !$0.away }.forEach { reconnect($0, run, after: 0.5) }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// Brings `person` back after `delay` seconds; runs on the person's loop.
private func reconnect(_ person: PersonState, _ run: LoadRun, after delay: Double) {
    person.away = true
    person.loop.scheduleTask(in: .milliseconds(Int64(delay * 1000))) {
        run.connector(for: person).connect(person, sourceIndex: person.index).whenComplete { _ in person.away = false }
    }
}

/// Per-loop fractional reconnect credit; each slot touched only on its own loop.
private final class UnsafeCredit: @unchecked Sendable {
    var values: [Double]
    init(loops: Int) { values = Array(repeating: 0, count: loops) }
}

/// Whether the churn loop should go on.
private final class ChurnFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = true
    var running: Bool { lock.withLock { value } }
    func stop() { lock.withLock { value = false } }
}
