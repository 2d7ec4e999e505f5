import Logging
import Synchronization
import ZvonokCore

extension Database {
    /// Runs `work` in a task of its own and answers `unavailable` as soon as the primary it runs on is given up (a
    /// failover) or `timeouts.operation` plus `timeouts.lease` has passed, leaving the work to end on its own.
    ///
    /// For the group commit, whose senders must hear back: postgres-nio can leave a statement waiting for good on a
    /// connection that died under it (seen when the primary's machine died mid-commit), and closing that connection
    /// (`closingWhenSilent`) does not end the wait; a commit stuck that way held its committer slot, and the sends queued
    /// behind it, for good. `unavailable` is the truth — the outcome is unknown — and the client's retry with the same
    /// `cid` finds the original if it landed.
    public func abandoning<Value: Sendable>(_ work: @escaping @Sendable () async throws -> Value) async throws -> Value {
        try await abandoning(within: timeouts.operation.map { $0 + timeouts.lease }, work)
    }

    /// `abandoning(_:)` with a limit of its own (nil: none).
    func abandoning<Value: Sendable>(within limit: Duration?, _ work: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let once = AnswerOnce<Value>()
        let pools = self.pools, deadlines = self.deadlines, logger = self.logger
        return try await withCheckedThrowingContinuation { continuation in
            once.begin(continuation)
            let lost = pools.whenLost {
                if once.finish(.failure(ZvonokError.unavailable())) {
                    logger.warning("Database unavailable", metadata: ["error": "the primary was given up mid-operation"])
                }
            }
            let deadline = limit.map { limit in
                deadlines.arm(after: limit) {
                    if once.finish(.failure(ZvonokError.unavailable())) {
                        logger.warning("Database unavailable", metadata: ["error": "no result within \(limit)"])
                    }
                }
            }
            Task {
                do { _ = once.finish(.success(try await work())) } catch { _ = once.finish(.failure(error)) }
                pools.forget(lost)
                if let deadline { deadlines.disarm(deadline) }
            }
        }
    }
}

/// Resumes a caller with the first of several answers.
private final class AnswerOnce<Value: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<Value, any Error>?>(nil)

    func begin(_ continuation: CheckedContinuation<Value, any Error>) {
        self.continuation.withLock { $0 = continuation }
    }

    /// Answers the caller unless another answer came first; whether this one did.
    func finish(_ result: Result<Value, any Error>) -> Bool {
        guard let continuation = continuation.withLock({ $0.take() }) else { return false }
        continuation.resume(with: result)
        return true
    }
}
