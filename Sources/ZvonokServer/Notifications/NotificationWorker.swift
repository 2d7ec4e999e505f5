import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle
import ZvonokCore
import ZvonokStorage

/// The notification sender inside every node: moves committed messages from the outbox to pending notifications,
/// releases those that are due (past the coalescing window, or the end of quiet hours) as deliveries, and sends them
/// through each push service's sender with a bound on requests in flight per service, retrying with backoff. Nodes
/// share the work through `FOR UPDATE SKIP LOCKED`; nothing here runs on the fan-out path.
struct NotificationWorker: Service {
    let outbox: NotificationOutbox
    let senders: [any PushSender]
    /// The senders' HTTP client, shut down when the worker stops.
    let http: HTTPClient
    let configuration: NotificationConfiguration
    let logger: Logger

    /// Rows each step takes at a time.
    static let batch = 500

    func run() async throws {
        var lastPrune = Date.distantPast
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                let now = configuration.clock()
                try await step(now: now)
                if now.timeIntervalSince(lastPrune) > 600 {
                    try await outbox.prune(now: now, presenceFreshness: configuration.presenceFreshness)
                    lastPrune = now
                }
            } catch {
                logger.warning("The notification sender's step failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.pollInterval)
        }
        try await http.shutdown()
    }

    /// One round of the three steps; each goes on while it fills whole batches, up to ten of them.
    func step(now: Date) async throws {
        for _ in 0..<10 {
            let taken = try await outbox.gather(
                now: now, window: configuration.coalescingWindow, presenceFreshness: configuration.presenceFreshness, limit: Self.batch)
            guard taken == Self.batch else { break }
        }
        for _ in 0..<10 {
            guard try await outbox.release(now: now, presenceFreshness: configuration.presenceFreshness, limit: Self.batch) == Self.batch else {
                break
            }
        }
        for _ in 0..<10 {
            let deliveries = try await outbox.claim(now: now, lease: configuration.lease, limit: Self.batch)
            await send(deliveries, now: now)
            guard deliveries.count == Self.batch else { break }
        }
    }

    /// Sends a batch, each service's deliveries at most `concurrencyPerService` at a time, all services at once, and
    /// records the sent ones in one statement. A delivery no configured sender takes (a platform switched off) is
    /// dropped.
    private func send(_ deliveries: [NotificationOutbox.Delivery], now: Date) async {
        var byService: [String: [(any PushSender, NotificationOutbox.Delivery)]] = [:]
        for delivery in deliveries {
            guard let (sender, service) = senders.lazy.compactMap({ sender in sender.service(of: delivery).map { (sender, $0) } }).first else {
                await settle(delivery, outcome: .rejected, now: now)
                continue
            }
            byService[service, default: []].append((sender, delivery))
        }
        let sent = await withTaskGroup(of: [Int64].self) { group in
            for queue in byService.values {
                group.addTask { await self.send(queue, now: now) }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        do { try await outbox.sent(sent, now: now) } catch {
            logger.warning("Sent notifications could not be recorded", metadata: ["error": "\(error)"])
        }
    }

    /// One service's deliveries; returns those it accepted, having settled the others.
    private func send(_ queue: [(any PushSender, NotificationOutbox.Delivery)], now: Date) async -> [Int64] {
        await withTaskGroup(of: Int64?.self) { group in
            var sent: [Int64] = []
            for (index, (sender, delivery)) in queue.enumerated() {
                if index >= configuration.concurrencyPerService, let done = await group.next() { sent += done.map { [$0] } ?? [] }
                group.addTask {
                    let outcome = await sender.send(delivery, now: now)
                    guard outcome != .sent else { return delivery.id }
                    await self.settle(delivery, outcome: outcome, now: now)
                    return nil
                }
            }
            for await done in group { sent += done.map { [$0] } ?? [] }
            return sent
        }
    }

    /// Records what came of a send that was not accepted: again later (twice the wait each time), given up, or the
    /// target forgotten.
    private func settle(_ delivery: NotificationOutbox.Delivery, outcome: PushOutcome, now: Date) async {
        do {
            switch outcome {
            case .sent:
                try await outbox.sent([delivery.id], now: now)
            case .retry where delivery.attempts < configuration.maximumAttempts:
                let wait = configuration.firstRetry * (1 << min(delivery.attempts - 1, 16))
                try await outbox.retry(delivery.id, at: now.addingTimeInterval(wait.timeInterval))
            case .retry, .rejected:
                try await outbox.retry(delivery.id, at: nil)
            case .gone:
                try await outbox.forget(delivery.target)
            }
        } catch {
            logger.warning("A notification's outcome could not be recorded", metadata: ["error": "\(error)"])
        }
    }
}
