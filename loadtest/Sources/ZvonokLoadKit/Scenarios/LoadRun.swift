import Foundation
public import NIOCore
import NIOPosix

/// Where the server is and how to reach it, common to every scenario.
public struct Target: Sendable {
    /// Base URL, e.g. `http://127.0.0.1:8080` (loopback only).
    public var server: String
    /// Base URLs of the hub nodes to spread WebSocket connections over, person by person (round robin); empty: all
    /// connect to `server`. The setup goes through `server` either way.
    public var nodes: [String] = []
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

    /// The WebSocket endpoints connections are spread over.
    var endpoints: [String] { nodes.isEmpty ? [server] : nodes }

    static func hostAndPort(of server: String) -> (host: String, port: Int) {
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
    /// One per node of `target.endpoints`; person `i` connects through `connectors[i % count]`.
    let connectors: [WebSocketConnector]
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
        connectors = target.endpoints.map { endpoint in
            let (host, port) = Target.hostAndPort(of: endpoint)
            return WebSocketConnector(host: host, port: port, path: "/v1/ws", sourceAddresses: target.sourceAddresses, timeout: target.connectTimeout)
        }
    }

    /// The connector of the node `person` uses.
    func connector(for person: PersonState) -> WebSocketConnector {
        connectors[person.index % connectors.count]
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
                        try await self.connector(for: person).connect(person, sourceIndex: sourceIndex).get()
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
    func latencies() async throws -> Latencies {
        let all = try await onEachLoop { index, _ in
            let stats = self.stats[index]
            return Latencies(
                ack: stats.ackLatency, delivery: stats.deliveryLatency, crossNode: stats.crossNodeLatency,
                lastRecipient: stats.lastRecipientLatency, connect: stats.connectLatency)
        }
        var merged = Latencies()
        for part in all {
            merged.ack.add(part.ack)
            merged.delivery.add(part.delivery)
            merged.crossNode.add(part.crossNode)
            merged.lastRecipient.add(part.lastRecipient)
            merged.connect.add(part.connect)
        }
        return merged
    }

    /// The run's latency histograms.
    struct Latencies: Sendable {
        var ack = LatencyHistogram()
        var delivery = LatencyHistogram()
        /// Deliveries to a recipient connected to another node than the sender.
        var crossNode = LatencyHistogram()
        var lastRecipient = LatencyHistogram()
        var connect = LatencyHistogram()
    }

    /// Acknowledged messages that some connected member has not seen (after the drain), summed over people.
    func unseenAcknowledged() async throws -> Int {
        try await onEachLoop { _, people in people.filter(\.isConnected).reduce(0) { $0 + $1.unseenAcknowledged() } }.reduce(0, +)
    }
}
