import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import ZvonokStorage

/// Keeps this node's share of `push_presence`: the hub reports each person whose connections here may have come or
/// gone, and every `interval` the recorder writes who of them is connected now and beats the node's heartbeat. The
/// notification sender of any node then leaves out people who are reading already.
final class PresenceRecorder: Service, Sendable {
    /// This process's name in the table: a node that restarts starts afresh, and its old rows die with its heartbeat.
    let node = UUID().uuidString
    private let store: PushPresenceStore
    private let isConnected: @Sendable (Int64) -> Bool
    private let interval: Duration
    private let clock: @Sendable () -> Date
    private let logger: Logger
    private let changed = Mutex<Set<Int64>>([])

    init(store: PushPresenceStore, configuration: NotificationConfiguration, logger: Logger, isConnected: @escaping @Sendable (Int64) -> Bool) {
        self.store = store
        self.isConnected = isConnected
        self.interval = configuration.presenceInterval
        self.clock = configuration.clock
        self.logger = logger
    }

    /// `person` connected or disconnected here; recorded within one interval. Takes a lock for a set insertion.
    func personChanged(_ person: Int64) {
        _ = changed.withLock { $0.insert(person) }
    }

    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            await record()
            try? await Task.sleep(for: interval)
        }
        // Stopping: this node's people count as offline at once, not once its heartbeat goes stale.
        try? await store.forget(node: node)
    }

    /// Writes the changed people's presence and the heartbeat; on failure they wait for the next round.
    func record() async {
        let people = changed.withLock { changed in
            defer { changed.removeAll() }
            return changed
        }
        let online = people.filter(isConnected)
        do {
            try await store.update(node: node, online: Array(online), offline: Array(people.subtracting(online)), now: clock())
        } catch {
            changed.withLock { $0.formUnion(people) }
            logger.info("Presence could not be recorded", metadata: ["error": "\(error)"])
        }
    }
}
