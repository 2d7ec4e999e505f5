import Foundation
import Logging
import Synchronization
import ZvonokCore
import ZvonokStorage

/// Tells a sender in the `ack` when recipients held by quiet hours will be notified (`quietUntil`). The answer for a
/// chat and sender is kept until it can change — the quiet hours it found end — and at most `lifetime`, so that a
/// busy chat asks the database about twice a minute, and the ack of a send waits for it only on a miss.
final class QuietHoursAcks: Sendable {
    private struct Known {
        let quietUntil: Date?
        let validUntil: Date
    }

    /// How long an answer is kept at most: quiet hours that begin, or a school's new setting, show within this.
    static let lifetime: TimeInterval = 30
    /// Answers kept at most; beyond, all are dropped and asked again.
    static let capacity = 10_000

    private let settings: NotificationSettingsStore
    private let clock: @Sendable () -> Date
    private let logger: Logger
    private let known = Mutex<[Int64: [Int64: Known]]>([:])

    init(settings: NotificationSettingsStore, clock: @escaping @Sendable () -> Date, logger: Logger) {
        self.settings = settings
        self.clock = clock
        self.logger = logger
    }

    /// Sends `committed`'s ack to `connection`: at once when the answer is known, else once it is read.
    func ack(_ committed: CommittedMessage, to connection: HubConnection) {
        let now = clock()
        if let answer = known.withLock({ $0[committed.chatID]?[committed.senderID] }), answer.validUntil > now {
            connection.send(HubFrames.ack(committed, quietUntil: answer.quietUntil))
            return
        }
        Task {
            connection.send(HubFrames.ack(committed, quietUntil: await self.lookUp(committed, now: now)))
        }
    }

    private func lookUp(_ committed: CommittedMessage, now: Date) async -> Date? {
        do {
            let quietUntil = try await settings.quietUntil(chat: committed.chatID, sender: committed.senderID, now: now)
            let answer = Known(quietUntil: quietUntil, validUntil: min(quietUntil ?? .distantFuture, now.addingTimeInterval(Self.lifetime)))
            known.withLock { known in
                if known.count >= Self.capacity { known.removeAll() }
                known[committed.chatID, default: [:]][committed.senderID] = answer
            }
            return quietUntil
        } catch {
            // The message is committed: its ack goes out, without the hint.
            logger.info("Quiet hours could not be read for an ack", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
