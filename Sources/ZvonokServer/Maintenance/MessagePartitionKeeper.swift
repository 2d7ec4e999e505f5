public import Foundation
public import Logging
public import ServiceLifecycle
public import ZvonokStorage

/// Creates the monthly partitions of history ahead of the clock while the server runs: `migrate` makes them at
/// start (from last month to three ahead), so a server up for months would otherwise have its messages land in the
/// default partition. Checks every `interval` (a day) after start; several nodes doing it at once take turns.
public struct MessagePartitionKeeper: Service {
    let database: Database
    let interval: Duration
    let today: @Sendable () -> Date
    let logger: Logger

    /// - Parameter today: the clock (injected so that a test can jump months).
    public init(database: Database, interval: Duration = .seconds(24 * 3600), today: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.database = database
        self.interval = interval
        self.today = today
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await keepAhead() }
    }

    /// Until cancelled: wait an interval, make sure of the partitions. A failure (the database away) is logged and
    /// tried again after the next interval; with three months made ahead there is time.
    func keepAhead() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled else { return }
            do {
                try await database.ensureMessagePartitions(around: today())
            } catch {
                guard !Task.isCancelled else { return }
                logger.warning("Could not create history partitions ahead; retrying", metadata: ["error": "\(error)"])
            }
        }
    }
}
