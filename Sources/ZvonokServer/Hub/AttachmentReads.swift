import Synchronization
import ZvonokCore
import ZvonokStorage

/// The files of sends read many sends at a time (`FileStore.attachable`): while one read is out, the sends that come
/// meanwhile wait, and the next read takes them all — as the group commit gathers the writes — so that a busy node
/// makes one round trip for many sends with files rather than one each.
final class AttachmentReads: Sendable {
    private typealias Waiter = (send: FileStore.Attachment, reply: CheckedContinuation<[AttachedFile], any Error>)

    /// Sends one read takes at most.
    static let batch = 500

    private let files: FileStore
    private let state = Mutex<(waiting: [Waiter], reading: Bool)>(([], false))

    init(files: FileStore) {
        self.files = files
    }

    /// The files `send` names, as its message will carry them; `invalid_argument` when any is not the sender's to
    /// attach there.
    func attachable(_ send: FileStore.Attachment) async throws -> [AttachedFile] {
        guard !send.ids.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { reply in
            let starts = state.withLock { state -> Bool in
                state.waiting.append((send, reply))
                guard !state.reading else { return false }
                state.reading = true
                return true
            }
            if starts { Task { await self.readWhileWaiting() } }
        }
    }

    /// Reads for the sends waiting, then for those that came meanwhile, until none is left.
    private func readWhileWaiting() async {
        while let waiters = next() {
            do {
                let results = try await files.attachable(waiters.map(\.send))
                for (waiter, result) in zip(waiters, results) { waiter.reply.resume(with: result.mapError { $0 as any Error }) }
            } catch {
                for waiter in waiters { waiter.reply.resume(throwing: error) }
            }
        }
    }

    /// The next sends to read for, at most `batch`; nil (and no read out) when none waits.
    private func next() -> [Waiter]? {
        state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.reading = false
                return nil
            }
            let taken = Array(state.waiting.prefix(Self.batch))
            state.waiting.removeFirst(taken.count)
            return taken
        }
    }
}
