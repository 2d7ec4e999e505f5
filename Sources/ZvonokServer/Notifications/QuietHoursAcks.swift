import Foundation
import Logging
import Synchronization
import ZvonokCore
import ZvonokStorage

/// Tells a sender in the `ack` when recipients held by quiet hours will be notified (`quietUntil`).
///
/// The answer is read once a chat, whoever sends (`ChatQuietHours`, by school and role), and kept until it can
/// change — the first quiet hours it found end — and at most `lifetime`, so that a busy chat asks the database about
/// twice a minute. Sends that miss while it is read wait for that one read; the ack waits only then. (Asked per chat
/// and sender and per member, as first built, the reads of a class day's first minute held acks for a second.)
final class QuietHoursAcks: Sendable {
    private struct Known {
        let answer: ChatQuietHours
        let validUntil: Date
    }

    private enum Entry {
        case known(Known)
        case reading(Task<ChatQuietHours?, Never>)
    }

    /// How long an answer is kept at most: quiet hours that begin, or a school's new setting, show within this.
    static let lifetime: TimeInterval = 30
    /// Chats kept at most; beyond, all are dropped and asked again.
    static let capacity = 10_000

    private let settings: NotificationSettingsStore
    private let clock: @Sendable () -> Date
    private let logger: Logger
    private let chats = Mutex<[Int64: Entry]>([:])

    init(settings: NotificationSettingsStore, clock: @escaping @Sendable () -> Date, logger: Logger) {
        self.settings = settings
        self.clock = clock
        self.logger = logger
    }

    /// Sends `committed`'s ack to `connection`: at once when the chat's answer is known, else once it is read.
    func ack(_ committed: CommittedMessage, to connection: HubConnection) {
        let now = clock(), chat = committed.chatID, sender = committed.senderID
        let entry = chats.withLock { chats -> Entry in
            switch chats[chat] {
            case .known(let known) where known.validUntil > now:
                return .known(known)
            case .reading(let task):
                return .reading(task)
            default:
                if chats.count >= Self.capacity { chats.removeAll() }
                let task = Task { await self.read(chat, now: now) }
                chats[chat] = .reading(task)
                return .reading(task)
            }
        }
        switch entry {
        case .known(let known):
            connection.send(HubFrames.ack(committed, quietUntil: known.answer.quietUntil(excluding: sender)))
        case .reading(let task):
            Task { connection.send(HubFrames.ack(committed, quietUntil: await task.value?.quietUntil(excluding: sender))) }
        }
    }

    private func read(_ chat: Int64, now: Date) async -> ChatQuietHours? {
        do {
            let answer = try await settings.quietHours(ofChat: chat, now: now)
            let known = Known(answer: answer, validUntil: min(answer.firstChange ?? .distantFuture, now.addingTimeInterval(Self.lifetime)))
            chats.withLock { $0[chat] = .known(known) }
            return answer
        } catch {
            // The message is committed: its ack goes out, without the hint; the next send asks again.
            chats.withLock { $0[chat] = nil }
            logger.info("Quiet hours could not be read for an ack", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
