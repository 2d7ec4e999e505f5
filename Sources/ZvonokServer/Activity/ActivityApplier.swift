public import Logging
public import ServiceLifecycle
public import ZvonokStorage

/// Applies the activity queued by group commits, edits and deletions to `activity_daily` and the rating's roll-ups
/// (sql/007), every `interval`, so that the queue stays short and the roll-ups close behind the messages. Reads of
/// the rating apply the queue themselves as well, so they never depend on this service's timing; several nodes
/// running it at once apply each queued row once.
public struct ActivityApplier: Service {
    let activities: ActivityStore
    let interval: Duration
    let logger: Logger

    public init(database: Database, interval: Duration, logger: Logger) {
        self.activities = ActivityStore(database: database)
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await applyEveryInterval() }
    }

    /// Until cancelled: wait an interval, apply. A failure (the database away, or not migrated yet at start) is
    /// logged when it begins and when it ends; what stayed queued is applied by the next run that succeeds.
    func applyEveryInterval() async {
        var failing = false
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled else { return }
            do {
                try await activities.applyQueued()
                if failing { logger.notice("Queued activity is applied again") }
                failing = false
            } catch {
                guard !Task.isCancelled else { return }
                if !failing { logger.warning("Could not apply queued activity; retrying", metadata: ["error": "\(error)"]) }
                failing = true
            }
        }
    }
}
