import Foundation
public import NIOCore
import NIOPosix

/// Where the server is and how to reach it, common to every scenario.
public struct Target: Sendable {
    /// Base URL, e.g. `http://127.0.0.1:8080` (loopback only).
    public var server: String
    /// Source addresses to connect from, e.g. 127.0.0.1 … 127.0.0.8; empty: the system's choice.
    public var sourceAddresses: [String] = []
    /// Connection attempts in flight at once.
    public var connectConcurrency = 256
    public var connectTimeout: TimeAmount = .seconds(20)
    /// Event loop threads of the load generator.
    public var threads = System.coreCount
    /// The server's process id, for its CPU time and memory from `/proc`.
    public var serverPID: Int32?
    /// Prints a progress line every second to standard error.
    public var progress = true

    public init(server: String) {
        self.server = server
    }

    var hostAndPort: (host: String, port: Int) {
        let rest = server.split(separator: "//").last.map(String.init) ?? server
        let authority = rest.split(separator: "/").first.map(String.init) ?? rest
        let parts = authority.split(separator: ":")
        return (String(parts.first ?? "127.0.0.1"), parts.count > 1 ? Int(parts[1]) ?? 80 : 80)
    }

    /// `127.0.0.1` … `127.0.0.n`.
    public static func loopbackSources(_ count: Int) -> [String] {
        count <= 0 ? [] : (1...min(count, 254)).map { "127.0.0.\($0)" }
    }
}

/// The connections of one run: the people, spread over event loops (person `i` lives on loop `i % threads`), the
/// per-loop statistics, and the progress line.
final class LoadRun: @unchecked Sendable {
    let group: MultiThreadedEventLoopGroup
    let loops: [any EventLoop]
    let stats: [LoopStats]
    let people: [PersonState]
    let context: RunContext
    let connector: WebSocketConnector
    let target: Target
    let started = ContinuousClock.now

    init(target: Target, people setup: [LoadSetup.Person], context: RunContext) {
        self.target = target
        self.context = context
        let threads = max(1, target.threads)
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let loops = Array(group.makeIterator())
        let stats = loops.map { _ in LoopStats() }
        self.loops = loops
        self.stats = stats
        people = setup.enumerated().map { index, person in
            PersonState(index: index, person: person, loop: loops[index % threads], stats: stats[index % threads], context: context)
        }
        let (host, port) = target.hostAndPort
        connector = WebSocketConnector(host: host, port: port, path: "/v1/ws", sourceAddresses: target.sourceAddresses, timeout: target.connectTimeout)
    }

    var counters: Counters { Counters(stats) }

    /// Connects `people` (all by default), `connectConcurrency` at a time; returns how many reached `ready`.
    @discardableResult
    func connect(_ selection: [PersonState]? = nil) async -> Int {
        let people = selection ?? self.people
        let concurrency = max(1, target.connectConcurrency)
        return await withTaskGroup(of: Bool.self) { group in
            var next = 0
            var opened = 0
            func start() {
                guard next < people.count else { return }
                let person = people[next]
                let sourceIndex = person.index
                next += 1
                group.addTask {
                    do {
                        try await self.connector.connect(person, sourceIndex: sourceIndex).get()
                        return true
                    } catch {
                        return false
                    }
                }
            }
            for _ in 0..<concurrency { start() }
            while let ok = await group.next() {
                if ok { opened += 1 }
                start()
            }
            return opened
        }
    }

    /// Runs `body` on every loop with the people living there, and collects the answers.
    func onEachLoop<T: Sendable>(_ body: @escaping @Sendable (_ loop: Int, _ people: [PersonState]) -> T) async throws -> [T] {
        var results: [T] = []
        for (index, loop) in loops.enumerated() {
            let mine = stride(from: index, to: people.count, by: loops.count).map { people[$0] }
            results.append(try await loop.submit { body(index, mine) }.get())
        }
        return results
    }

    /// Prints a progress line every second until the returned task is cancelled.
    func startProgress(_ label: String) -> Task<Void, Never>? {
        guard target.progress else { return nil }
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let c = counters
                let line = String(
                    format: "[%@ %5.1fs] open %d  sent %d  acked %d  delivered %d  errors %d\n",
                    label, (ContinuousClock.now - started).seconds, c.open, c.sent, c.acked, c.delivered, c.errors
                )
                FileHandle.standardError.write(Data(line.utf8))
            }
        }
    }

    /// Waits until `done` holds (checked every 50 ms) or `timeout` passes; returns whether it held.
    func wait(upTo timeout: Duration, until done: @escaping @Sendable () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await done() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return await done()
    }

    /// Closes every connection and stops the event loops.
    func shutdown() async {
        _ = try? await onEachLoop { _, people in people.forEach { $0.disconnect() } }
        _ = await wait(upTo: .seconds(3)) { self.counters.open == 0 }
        try? await group.shutdownGracefully()
    }

    /// The latency histograms of all loops, merged.
    func latencies() async throws -> (ack: LatencyHistogram, delivery: LatencyHistogram, lastRecipient: LatencyHistogram, connect: LatencyHistogram) {
        let all = try await onEachLoop { index, _ in
            let stats = self.stats[index]
            return (stats.ackLatency, stats.deliveryLatency, stats.lastRecipientLatency, stats.connectLatency)
        }
        var merged = (ack: LatencyHistogram(), delivery: LatencyHistogram(), lastRecipient: LatencyHistogram(), connect: LatencyHistogram())
        for part in all {
            merged.ack.add(part.0)
            merged.delivery.add(part.1)
            merged.lastRecipient.add(part.2)
            merged.connect.add(part.3)
        }
        return merged
    }

    /// Acknowledged messages that some connected member has not seen (after the drain), summed over people.
    func unseenAcknowledged() async throws -> Int {
        try await onEachLoop { _, people in people.filter(\.isConnected).reduce(0) { $0 + $1.unseenAcknowledged() } }.reduce(0, +)
    }
}
