import Foundation
import NIOCore
import Synchronization

/// `fanout`: class chats of M members, every member connected; either open-loop senders at a fixed total rate
/// (latency from the scheduled send time to the ack and to each recipient) or, with a window, closed-loop senders
/// that keep `window` sends outstanding each (durable throughput: acknowledged messages per second).
public struct FanoutScenario: Sendable {
    public var target: Target
    public var setup: LoadSetup
    public var api: HTTPAPI?
    /// Total messages per second (open loop).
    public var rate: Double = 1000
    /// Sends each closed-loop sender keeps outstanding; 0: open loop.
    public var window = 0
    /// Closed-loop senders (0: one per chat).
    public var senders = 0
    public var seconds: Double = 10
    public var messages = Int.max
    /// Seconds to wait after the last send for acks and deliveries.
    public var drain: Double = 10
    public var textSize = 40
    /// Whether each message carries a small file, uploaded before the run (one per message, as a file is attached
    /// once): the frames then carry file metadata, and the group commit links the files.
    public var files = false
    /// Send again, with the same `cid`, what is answered `unavailable` (see `RunContext.Configuration`).
    public var retryUnavailable = false

    public init(target: Target, setup: LoadSetup) {
        self.target = target
        self.setup = setup
    }

    public func run() async throws -> ScenarioReport {
        raiseOpenFileLimit()
        var configuration = RunContext.Configuration()
        configuration.trackLastRecipient = window == 0
        configuration.window = window
        configuration.textSize = textSize
        configuration.retryUnavailable = retryUnavailable
        configuration.nodes = target.endpoints.count
        configuration.mayPost = { _, kind in kind == "class" }
        let context = RunContext(configuration: configuration, api: api)
        let run = LoadRun(target: target, people: setup.people, context: context)
        let progress = run.startProgress("fanout")
        let opened = await run.connect()
        for ledger in context.allLedgers { ledger.expectRecipients(ledger.members) }
        if files { try await uploadFiles(run) }

        let server = target.serverPID.map(ProcessMeter.init)
        let serverCPUBefore = server?.cpuSeconds()
        let selfCPUBefore = ProcessMeter.current.cpuSeconds()
        let before = run.counters
        let started = ContinuousClock.now
        if window == 0 {
            try await openLoop(run)
        } else {
            try await closedLoop(run)
        }
        let sendSeconds = (ContinuousClock.now - started).seconds
        // Settled when every send is answered and every acknowledged message has reached its connected members (the
        // hub acks before it fans out, so the last batch's deliveries may still be on their way).
        let drained = await run.wait(upTo: .seconds(drain)) {
            let c = run.counters
            guard c.acked + c.errorFrames + c.rateLimited >= c.sent, context.allLedgers.allSatisfy({ $0.incomplete == 0 }) else { return false }
            return (try? await run.unseenAcknowledged()) == 0
        }
        let seconds = (ContinuousClock.now - started).seconds
        let serverCPU = difference(server?.cpuSeconds(), serverCPUBefore)
        let selfCPU = difference(ProcessMeter.current.cpuSeconds(), selfCPUBefore)
        progress?.cancel()

        let after = run.counters
        let latencies = try await run.latencies()
        let unseen = try await run.unseenAcknowledged()
        var report = ScenarioReport(scenario: "fanout", counters: after)
        await run.shutdown()
        report.seconds = seconds
        report.parameters = [
            "connections": "\(setup.people.count)", "chats": "\(setup.shape.schools * setup.shape.classesPerSchool)",
            "members": "\(setup.shape.studentsPerClass + setup.shape.teachersPerClass)",
            "mode": window == 0 ? "open loop, \(rate) msg/s" : "closed loop, window \(window)",
            "duration": "\(self.seconds)", "messages": messages == Int.max ? "unbounded" : "\(messages)", "threads": "\(run.loops.count)",
            "textSize": "\(textSize)", "nodes": "\(target.endpoints.count)", "files": files ? "one per message" : "none",
        ]
        let delivered = after.delivered - before.delivered
        let acked = after.acked - before.acked
        report.figures["send seconds"] = sendSeconds
        report.figures["longest time without an ack (s)"] = context.ackSilence.longestSeconds
        report.figures["sends/s"] = Double(after.sent - before.sent) / max(sendSeconds, 1e-9)
        report.figures["acks/s"] = Double(acked) / max(seconds, 1e-9)
        report.figures["deliveries/s"] = Double(delivered) / max(seconds, 1e-9)
        if let serverCPU {
            report.figures["server CPU s"] = serverCPU
            if delivered > 0 { report.figures["server CPU µs/delivery"] = serverCPU * 1e6 / Double(delivered) }
            if acked > 0 { report.figures["server CPU µs/message"] = serverCPU * 1e6 / Double(acked) }
        }
        if let selfCPU { report.figures["load generator CPU s"] = selfCPU }
        report.latencies["send→ack"] = latencies.ack.summary
        report.latencies["send→each recipient"] = latencies.delivery.summary
        if target.endpoints.count > 1 { report.latencies["send→recipient on another node"] = latencies.crossNode.summary }
        if window == 0 { report.latencies["send→last recipient"] = latencies.lastRecipient.summary }
        let ledgers = context.allLedgers
        report.failures = [
            "connect failures": setup.people.count - opened,
            "unexpected closes": after.unexpectedCloses,
            "4008 closes": after.slowConsumerCloses,
            "error frames": after.errorFrames,
            "rate_limited (start the server with --send-rate 0)": after.rateLimited,
            "gaps": after.gaps,
            "duplicates": after.duplicates,
            "reordered": after.reordered,
            "duplicate acks": ledgers.reduce(0) { $0 + $1.duplicateAcks },
            "lost acknowledged": unseen,
            "unacknowledged sends": drained ? 0 : max(0, after.sent - after.acked - after.errorFrames - after.rateLimited),
            "partly delivered": window == 0 ? ledgers.reduce(0) { $0 + $1.incomplete } : 0,
        ]
        return report
    }

    /// Uploads, for every person who may post, as many small files as they will send to their first chat (the open
    /// loop takes senders in turn), 32 uploads at a time.
    private func uploadFiles(_ run: LoadRun) async throws {
        guard let api else { throw HTTPAPI.Failure(description: "--files needs the HTTP API") }
        let postable = try await run.onEachLoop { _, people in people.compactMap { person in person.postable.first.map { (person.index, $0.chat) } } }
            .flatMap { $0 }
        let planned = window == 0 ? min(Double(messages), rate * seconds) : Double(min(messages, 100_000))
        let each = Int((planned / Double(max(postable.count, 1))).rounded(.up))
        let started = ContinuousClock.now
        var uploaded: [Int: [String]] = [:]
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var jobs = postable.flatMap { person in (0..<each).map { (person.0, person.1, $0) } }.makeIterator()
            func next() -> Bool {
                guard let (person, chat, serial) = jobs.next() else { return false }
                let token = setup.people[person].token
                group.addTask {
                    let answer = try await api.upload(
                        ByteBuffer(string: "Задание \(person)-\(serial) \(UInt64.random(in: 0...UInt64.max))\n"), name: "\(serial).txt", to: chat,
                        token: token)
                    guard let id = answer["id"] as? String else { throw HTTPAPI.Failure(description: "no file id in \(answer)") }
                    return (person, id)
                }
                return true
            }
            for _ in 0..<32 where next() {}
            while let (person, id) = try await group.next() {
                uploaded[person, default: []].append(id)
                _ = next()
            }
        }
        let pools = uploaded, chats = Dictionary(uniqueKeysWithValues: postable.map { ($0.0, $0.1) })
        _ = try await run.onEachLoop { _, people in
            for person in people { if let chat = chats[person.index] { person.files[chat] = pools[person.index] ?? [] } }
        }
        let count = pools.values.reduce(0) { $0 + $1.count }
        let elapsed = (ContinuousClock.now - started).seconds
        FileHandle.standardError.write(Data("uploaded \(count) files in \(String(format: "%.1f", elapsed)) s\n".utf8))
    }

    private func openLoop(_ run: LoadRun) async throws {
        let loops = run.loops.count
        let schedule = SendSchedule(rate: rate).share(loops)
        let start = NIODeadline.now().uptimeNanoseconds + 20_000_000
        let drivers = try await run.onEachLoop { index, people in
            let senders = people.filter { !$0.postable.isEmpty }
            let quota = messages == Int.max ? Int.max : messages / loops + (index < messages % loops ? 1 : 0)
            // Loops take turns: loop i's sends sit between loop i-1's.
            let offset = UInt64(Double(index) / max(rate, 1e-9) * 1e9)
            let driver = OpenLoopDriver(loop: run.loops[index], schedule: schedule, startNanos: start + offset, seconds: seconds, quota: quota) {
                k, intended in
                guard !senders.isEmpty else { return }
                let sender = senders[k % senders.count]
                sender.send(to: sender.postable[(k / senders.count) % sender.postable.count].chat, intended: intended)
            }
            driver.start()
            return driver.finished.futureResult
        }
        for driver in drivers { _ = try await driver.get() }
    }

    private func closedLoop(_ run: LoadRun) async throws {
        // One sender per chat (or `senders` of them), so that every chat keeps `window` sends in flight.
        let chatsOf = try await run.onEachLoop { _, people in people.map { ($0.index, $0.postable.map(\.chat)) } }.flatMap { $0 }.sorted {
            $0.0 < $1.0
        }
        var taken: Set<String> = []
        var chosen: Set<Int> = []
        for (person, chats) in chatsOf {
            if let chat = chats.first, !taken.contains(chat) {
                taken.insert(chat)
                chosen.insert(person)
            }
            if senders > 0, chosen.count >= senders { break }
        }
        let selected = chosen
        run.context.sending.store(true, ordering: .relaxed)
        _ = try await run.onEachLoop { _, people in people.filter { selected.contains($0.index) }.forEach { $0.fillWindow() } }
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline, run.counters.sent < messages {
            try await Task.sleep(for: .milliseconds(5))
        }
        run.context.sending.store(false, ordering: .relaxed)
    }
}

/// `after - before` when both are known.
func difference(_ after: Double?, _ before: Double?) -> Double? {
    guard let after, let before else { return nil }
    return after - before
}
