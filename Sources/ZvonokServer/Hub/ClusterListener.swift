import Logging
import ServiceLifecycle
import Synchronization
import ZvonokStorage

/// The node's ear on the cluster channel: one LISTEN, watched by a heartbeat the node sends itself, and listened
/// again whenever the connection drops or goes silent.
final class ClusterListener: Sendable {
    private let database: Database
    private let channel: String
    /// This process's name on the channel (`ClusterRelay.node`).
    private let node: String
    private let logger: Logger
    private let listening = Atomic<Bool>(false)
    /// Sends over the listening connection while there is one (`notify`).
    private let sender = Mutex<NotificationSender?>(nil)
    /// How often the node sends itself a heartbeat on the channel; three missed in a row mean the listening
    /// connection went silent, and the node listens again.
    private let heartbeat: Duration
    /// When the node last heard its own heartbeat (or started listening).
    private let lastHeard = Mutex(ContinuousClock.now)

    init(database: Database, channel: String, node: String, heartbeat: Duration, logger: Logger) {
        self.database = database
        self.channel = channel
        self.node = node
        self.heartbeat = heartbeat
        self.logger = logger
    }

    /// Whether the node hears the channel now (for `/health`).
    var isListening: Bool { listening.load(ordering: .relaxed) }

    /// Announces `payloads` on the channel: over the listening connection when there is one, which takes no
    /// connection from the pool; through the pool otherwise. An announcement sent over a connection that went
    /// silent is lost with it; the other nodes' sweeps (every other heartbeat, and on listening again) read the
    /// messages back from the table.
    func notify(_ payloads: [String]) async throws {
        if let sender = sender.withLock({ $0 }) {
            try await sender.notify(channel, payloads)
        } else {
            try await database.notify(channel, payloads)
        }
    }

    /// The node's own heartbeat came back: the channel still carries.
    func heardOwnHeartbeat() {
        lastHeard.withLock { $0 = .now }
    }

    /// Listens until the node shuts down, listening again (and catching up) whenever the connection drops or goes
    /// silent.
    ///
    /// Each listening session runs in a task of its own, watched by a heartbeat: a LISTEN on a connection that died
    /// unnoticed, or a `listen` that never returns (postgres-nio can leak its continuation when the connection
    /// closes as it starts, vapor/postgres-nio#601), is left behind and replaced rather than waited for.
    func run(
        onListening: @escaping @Sendable () async -> Void, handle: @escaping @Sendable (String) async -> Void,
        everyOtherHeartbeat: @escaping @Sendable () async -> Void
    ) async {
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            lastHeard.withLock { $0 = .now }
            let (ended, end) = AsyncStream.makeStream(of: Void.self)
            let session = Task {
                do {
                    try await database.listen(
                        channel,
                        listening: { sender in
                            await onListening()
                            self.sender.withLock { $0 = sender }
                            self.listening.store(true, ordering: .relaxed)
                            self.logger.info("Listening on the cluster channel", metadata: ["node": "\(self.node)"])
                        }, handle: handle)
                } catch {
                    if !Task.isCancelled { self.logger.warning("Lost the cluster channel; listening again", metadata: ["error": "\(error)"]) }
                }
                end.yield()
            }
            let watchdog = Task {
                await self.watchHeartbeat(everyOtherHeartbeat)
                end.yield()
            }
            var first = ended.makeAsyncIterator()
            _ = await first.next()  // the session ended, the heartbeat stopped, or the node is shutting down
            session.cancel()
            watchdog.cancel()
            sender.withLock { $0 = nil }
            listening.store(false, ordering: .relaxed)
            if Task.isCancelled || Task.isShuttingDownGracefully { break }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
        listening.store(false, ordering: .relaxed)
    }

    /// Sends the node's heartbeat every `heartbeat` while it listens; returns when none came back for three
    /// periods (or the session never confirmed its LISTEN in that time). Runs `everyOtherHeartbeat` every other period.
    private func watchHeartbeat(_ everyOtherHeartbeat: @Sendable () async -> Void) async {
        var period = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: heartbeat)
            if Task.isCancelled { return }
            period += 1
            if isListening {
                // Through the pool, never over the connection watched: a silent connection would hold the watch up.
                try? await database.notify(channel, RelayMessage.heartbeat.payloads(from: node, maximum: ClusterRelay.maximumPayload).fitting)
                if period % 2 == 0 { await everyOtherHeartbeat() }
            }
            if lastHeard.withLock({ ContinuousClock.now - $0 }) > heartbeat * 3 {
                logger.warning("The cluster channel went silent; listening again", metadata: ["node": "\(node)"])
                return
            }
        }
    }
}
