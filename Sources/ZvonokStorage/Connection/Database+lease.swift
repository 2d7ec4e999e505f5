import PostgresNIO
import Synchronization
import ZvonokCore

extension Database {
    /// Leases a pooled connection for `body`, giving up with `unavailable` when none comes within `timeouts.lease`;
    /// a server that stops answering while `body` runs has the connection closed after `timeouts.operation`, which
    /// fails `body` instead of holding it forever.
    ///
    /// While the database is down, postgres-nio's pool queues a lease until it comes back (or until its circuit
    /// breaker opens, after a minute), and a client would wait as long; a frozen server (its sockets still accept
    /// connections, its processes answer nothing) held it for good. Giving up is safe before the lease: a lease given
    /// up on has sent nothing, so `unavailable` tells the truth. The pool has no such bound of its own, hence this
    /// hand-over: a helper task takes the lease and lends the connection to the caller, or is cancelled when the
    /// caller stops waiting. A busy pool is waited for as long as a dead one: the bound is one, whatever the cause.
    func withLeasedConnection<Result>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        let handoff = LeaseHandoff()
        let pools = self.pools, logger = self.logger, limit = timeouts.lease
        let lender = Task {
            do {
                try await pools.current().withConnection { connection in await handoff.lend(connection) }
            } catch {
                // Only the lease can fail here: the pool is shut down or its circuit breaker is open (or the caller
                // gave up, and this task was cancelled).
                if !Task.isCancelled { logger.warning("Database unavailable", metadata: ["error": "the connection pool refused a lease: \(error)"]) }
                handoff.fail(ZvonokError.unavailable())
            }
        }
        let deadline = deadlines.arm(after: limit) {
            logger.warning("Database unavailable", metadata: ["error": "no pooled connection within \(limit)"])
            handoff.giveUp()
        }
        let lease = await withTaskCancellationHandler {
            await handoff.borrow()
        } onCancel: {
            handoff.giveUp()
        }
        deadlines.disarm(deadline)
        let connection: PostgresConnection
        switch lease {
        case .success(let leased):
            connection = leased
        case .failure(let error):
            lender.cancel()
            throw error
        }
        let token = pools.lend(connection)
        defer {
            pools.giveBack(token)
            handoff.giveBack()
        }
        return try await closingWhenSilent(connection) { try await body(connection) }
    }

    /// Waits until the pool can lend a connection; `unavailable` when the database cannot be reached.
    func awaitReachable() async throws {
        try await withLeasedConnection { _ in }
    }

    /// Runs `body`, closing `connection` if it has not finished within `timeouts.operation`: PostgreSQL's own
    /// `statement_timeout` ends a long statement sooner, so only a server that answers nothing at all gets here.
    private func closingWhenSilent<Result>(_ connection: PostgresConnection, _ body: () async throws -> Result) async throws -> Result {
        guard let limit = timeouts.operation else { return try await body() }
        let logger = self.logger
        let watchdog = deadlines.arm(after: limit) {
            logger.warning("Database unavailable", metadata: ["error": "no answer within \(limit); closing the connection"])
            connection.close().whenComplete { _ in }
        }
        defer { deadlines.disarm(watchdog) }
        return try await body()
    }
}

/// One connection lent from a helper task to a waiting caller: lent once, or failed, or given up on — whichever
/// comes first — and, once lent, held by the helper until the caller gives it back.
private final class LeaseHandoff: Sendable {
    private struct State {
        var outcome: Result<PostgresConnection, any Error>?
        var borrower: CheckedContinuation<Result<PostgresConnection, any Error>, Never>?
        var lender: CheckedContinuation<Void, Never>?
        var givenBack = false
    }

    private let state = Mutex(State())

    /// Called by the helper with its leased connection; returns when the caller gives it back (at once when the
    /// caller has given up).
    func lend(_ connection: PostgresConnection) async {
        guard settle(.success(connection)) else { return }
        await withCheckedContinuation { continuation in
            let returned = state.withLock { state in
                if !state.givenBack { state.lender = continuation }
                return state.givenBack
            }
            if returned { continuation.resume() }
        }
    }

    /// The pool refused the lease.
    func fail(_ error: ZvonokError) {
        _ = settle(.failure(error))
    }

    /// The caller stops waiting: the time is up or it was cancelled. No effect once the connection was lent.
    func giveUp() {
        _ = settle(.failure(ZvonokError.unavailable()))
    }

    /// The connection, or why there is none.
    func borrow() async -> Result<PostgresConnection, any Error> {
        await withCheckedContinuation { continuation in
            let outcome = state.withLock { state in
                if state.outcome == nil { state.borrower = continuation }
                return state.outcome
            }
            if let outcome { continuation.resume(returning: outcome) }
        }
    }

    func giveBack() {
        let lender = state.withLock { state in
            state.givenBack = true
            return state.lender.take()
        }
        lender?.resume()
    }

    /// Records the first outcome and hands it to a waiting borrower; false when another came first.
    private func settle(_ outcome: Result<PostgresConnection, any Error>) -> Bool {
        let (settled, borrower) = state.withLock { state -> (Bool, CheckedContinuation<Result<PostgresConnection, any Error>, Never>?) in
            guard state.outcome == nil else { return (false, nil) }
            state.outcome = outcome
            return (true, state.borrower.take())
        }
        borrower?.resume(returning: outcome)
        return settled
    }
}
