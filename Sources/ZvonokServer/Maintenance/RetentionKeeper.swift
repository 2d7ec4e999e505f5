public import Foundation
public import Logging
public import ServiceLifecycle
public import ZvonokStorage

/// Runs the retention sweep (`RetentionStore`) inside the server every `interval` (an hour): old history, deleted
/// texts, old audit entries, erasure after the grace period, archives past their reading time. Idempotent, so several
/// nodes sweeping at once only repeat each other's no-ops.
public struct RetentionKeeper: Service {
    let store: RetentionStore
    let policy: RetentionPolicy
    let interval: Duration
    let now: @Sendable () -> Date
    let dropFiles: RetentionStore.FilesHook
    let logger: Logger

    /// - Parameters:
    ///   - now: the clock (injected so that a test can move years ahead).
    ///   - dropFiles: removes the files of a month of history before its partition is dropped; files are stored by
    ///     another part of the server, which plugs itself in here (nothing to remove without it).
    public init(
        database: Database, policy: RetentionPolicy, interval: Duration = .seconds(3600), now: @escaping @Sendable () -> Date = { Date() },
        dropFiles: @escaping RetentionStore.FilesHook = { _ in }, logger: Logger
    ) {
        self.store = RetentionStore(database: database)
        self.policy = policy
        self.interval = interval
        self.now = now
        self.dropFiles = dropFiles
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await keep() }
    }

    /// Until cancelled: wait an interval (the server migrates meanwhile), sweep. A failure (the database away) is
    /// logged and tried again after the next interval.
    func keep() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled else { return }
            do {
                let report = try await store.sweep(at: now(), policy: policy, dropFiles: dropFiles)
                if report != RetentionStore.Report() { logger.info("Retention sweep", metadata: ["report": "\(report)"]) }
            } catch {
                guard !Task.isCancelled else { return }
                logger.warning("Retention sweep failed; retrying", metadata: ["error": "\(error)"])
            }
        }
    }
}
