import Synchronization

/// Thrown by `withTimeout` when the work did not finish in time.
public struct TimeoutError: Error, Sendable {}

/// Runs `work` and returns its result, or throws `TimeoutError` once `limit` has passed.
///
/// Unlike a task group, this does not wait for work that ignores cancellation (a connection attempt to a database
/// that is down, say): the late work is cancelled and its result dropped.
public func withTimeout<Result: Sendable>(
    _ limit: Duration,
    _ work: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    let race = Race<Result>()
    return try await withCheckedThrowingContinuation { continuation in
        race.begin(continuation)
        let worker = Task { race.finish(await Swift.Result(catching: work)) }
        let timer = Task {
            try? await Task.sleep(for: limit)
            race.finish(.failure(TimeoutError()))
        }
        race.track([worker, timer])
    }
}

/// The first of two tasks to finish resumes the caller and cancels the other.
private final class Race<Value: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<Value, any Error>?>(nil)
    private let tasks = Mutex<[Task<Void, Never>]>([])

    func begin(_ continuation: CheckedContinuation<Value, any Error>) {
        self.continuation.withLock { $0 = continuation }
    }

    func track(_ tasks: [Task<Void, Never>]) {
        self.tasks.withLock { $0 = tasks }
        if continuation.withLock({ $0 == nil }) { cancelAll() }
    }

    func finish(_ outcome: Swift.Result<Value, any Error>) {
        guard let continuation = continuation.withLock({ $0.take() }) else { return }
        continuation.resume(with: outcome)
        cancelAll()
    }

    private func cancelAll() {
        tasks.withLock { $0.forEach { $0.cancel() } }
    }
}

extension Swift.Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
