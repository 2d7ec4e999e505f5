import Synchronization

/// Thrown by `withTimeout` when the work did not finish in time.
public struct TimeoutError: Error, Sendable {}

/// Runs `work` and returns its result, or throws `TimeoutError` once `limit` has passed.
///
/// Unlike a task group, this does not wait for work that ignores cancellation (a connection attempt to a database
/// that is down, say): the late work is cancelled and its result dropped. The limit is kept by a timer task of its
/// own, or, where many such waits run at once (every database query), by shared `deadlines`.
public func withTimeout<Result: Sendable>(
    _ limit: Duration,
    deadlines: Deadlines? = nil,
    _ work: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    let race = Race<Result>()
    return try await withCheckedThrowingContinuation { continuation in
        race.begin(continuation)
        let worker = Task { race.finish(await Swift.Result(catching: work)) }
        guard let deadlines else {
            let timer = Task {
                try? await Task.sleep(for: limit)
                race.finish(.failure(TimeoutError()))
            }
            return race.track([worker, timer])
        }
        let deadline = deadlines.arm(after: limit) { race.finish(.failure(TimeoutError())) }
        race.track([worker], onFinish: { deadlines.disarm(deadline) })
    }
}

/// The first of two tasks to finish resumes the caller and cancels the other.
private final class Race<Value: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<Value, any Error>?>(nil)
    private let tasks = Mutex<(tasks: [Task<Void, Never>], onFinish: (@Sendable () -> Void)?)>(([], nil))

    func begin(_ continuation: CheckedContinuation<Value, any Error>) {
        self.continuation.withLock { $0 = continuation }
    }

    /// The racing tasks, cancelled (and `onFinish` run) once the race is decided.
    func track(_ tasks: [Task<Void, Never>], onFinish: (@Sendable () -> Void)? = nil) {
        self.tasks.withLock { $0 = (tasks, onFinish) }
        if continuation.withLock({ $0 == nil }) { cancelAll() }
    }

    func finish(_ outcome: Swift.Result<Value, any Error>) {
        guard let continuation = continuation.withLock({ $0.take() }) else { return }
        continuation.resume(with: outcome)
        cancelAll()
    }

    private func cancelAll() {
        let (tasks, onFinish) = tasks.withLock { tracked in
            defer { tracked = ([], nil) }
            return tracked
        }
        tasks.forEach { $0.cancel() }
        onFinish?()
    }
}

extension Swift.Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
