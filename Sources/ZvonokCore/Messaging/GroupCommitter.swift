/// Collects sends from every connection and commits them in groups: while one batch is in flight, whatever
/// arrives queues for the next, so an idle hub adds no delay and a busy one writes hundreds of messages per round
/// trip. Each sender is answered only once its message is committed; committed batches are handed on (to the
/// fan-out) one at a time, in commit order, so per chat the recipients see `seq` order.
///
/// The commit itself is injected, so the core stays free of database types and this can be tested alone.
public actor GroupCommitter {
    public typealias Commit = @Sendable ([PendingMessage]) async throws -> [CommittedMessage]
    public typealias Committed = @Sendable ([CommittedMessage]) async -> Void

    private let maximumBatch: Int
    private let commit: Commit
    private let committed: Committed
    private var waiting: [(message: PendingMessage, reply: CheckedContinuation<CommittedMessage, any Error>)] = []
    private var flushing = false

    /// - Parameters:
    ///   - maximumBatch: the most messages one transaction takes.
    ///   - commit: makes a batch durable, returning it committed in the same order.
    ///   - committed: receives each committed batch after its senders are answered, before the next batch commits.
    public init(maximumBatch: Int = 500, commit: @escaping Commit, committed: @escaping Committed) {
        self.maximumBatch = maximumBatch
        self.commit = commit
        self.committed = committed
    }

    /// Queues a message and returns it once durable; throws what the commit threw (the database is down, say).
    public func submit(_ message: PendingMessage) async throws -> CommittedMessage {
        try await withCheckedThrowingContinuation { reply in
            waiting.append((message, reply))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
    }

    private func flush() async {
        while !waiting.isEmpty {
            let batch = Array(waiting.prefix(maximumBatch))
            waiting.removeFirst(batch.count)
            do {
                let results = try await commit(batch.map(\.message))
                for (entry, result) in zip(batch, results) { entry.reply.resume(returning: result) }
                await committed(results)
            } catch {
                for entry in batch { entry.reply.resume(throwing: error) }
            }
        }
        flushing = false
    }
}
