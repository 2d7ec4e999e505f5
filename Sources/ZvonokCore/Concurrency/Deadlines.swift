import Synchronization

/// Deadlines for many short waits, fired by one sweeping task instead of a timer task per wait.
///
/// Every database operation is bounded (a lease within seconds, an answer within the statement timeout), and
/// almost every one finishes long before its bound. A sleeping task per bound cost a task, a timer and two
/// wake-ups per query (`perf` showed the dispatch timers on the hot path); arming a deadline here costs an entry in
/// a dictionary under a lock. The sweeper runs only while deadlines are armed, and looks every `resolution`, so a
/// deadline fires up to `resolution` late: fine for bounds of seconds.
public final class Deadlines: Sendable {
    /// An armed deadline, for `disarm`.
    public struct Ticket: Sendable {
        fileprivate let id: UInt64
    }

    private struct Armed {
        let at: ContinuousClock.Instant
        let action: @Sendable () -> Void
    }

    private struct State {
        var nextID: UInt64 = 0
        var armed: [UInt64: Armed] = [:]
        var sweeping = false
    }

    private let resolution: Duration
    private let state = Mutex(State())

    public init(resolution: Duration = .milliseconds(100)) {
        self.resolution = resolution
    }

    /// Runs `action` once `limit` has passed, unless disarmed first.
    public func arm(after limit: Duration, _ action: @escaping @Sendable () -> Void) -> Ticket {
        let (id, startSweeping) = state.withLock { state in
            state.nextID += 1
            state.armed[state.nextID] = Armed(at: .now + limit, action: action)
            defer { state.sweeping = true }
            return (state.nextID, !state.sweeping)
        }
        if startSweeping { Task { await self.sweep() } }
        return Ticket(id: id)
    }

    /// Forgets a deadline; no effect once it fired.
    public func disarm(_ ticket: Ticket) {
        _ = state.withLock { $0.armed.removeValue(forKey: ticket.id) }
    }

    /// Fires what is due every `resolution`, until nothing is armed.
    private func sweep() async {
        while true {
            try? await Task.sleep(for: resolution)
            let due = state.withLock { state -> [Armed]? in
                guard !state.armed.isEmpty else {
                    state.sweeping = false
                    return nil
                }
                let now = ContinuousClock.now
                let due = state.armed.filter { $0.value.at <= now }
                for id in due.keys { state.armed[id] = nil }
                return Array(due.values)
            }
            guard let due else { return }
            for deadline in due { deadline.action() }
        }
    }
}
