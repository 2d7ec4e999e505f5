public import PostgresNIO
import ZvonokCore

extension Database {
    /// Runs `body` in a transaction, timed, with database failures turned into the contract's errors.
    public func transaction<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await translatingErrors {
            try await timed {
                do {
                    return try await withLeasedConnection { connection in
                        try await connection.withTransaction(logger: logger) { connection in try await body(connection) }
                    }
                } catch let error as PostgresTransactionError {
                    throw error.closureError ?? error.commitError ?? error.beginError ?? error
                }
            }
        }
    }

    /// Runs `body` on one pooled connection, timed, with failures turned into the contract's errors: one lease for
    /// a statement whose rows are read inside `body` (the group commit's), where `query` would take two.
    public func withConnection<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await translatingErrors {
            try await timed { try await withLeasedConnection(body) }
        }
    }

    /// Runs one statement outside a transaction, timed, with failures turned into the contract's errors.
    ///
    /// The pool's own `query` keeps its lease until the rows are read, which a lent connection cannot, so the wait
    /// for a connection is bounded by a reachability check just before (see `withLeasedConnection`), and the wait
    /// for the answer by `abandoning`: a frozen server's answer, or one from a primary given up (a failover), is not
    /// waited for (`unavailable`), and the statement, abandoned, ends when the server answers or its connection dies.
    /// A lease the pool refuses between the check and the statement (it was shut down by a failover) is `unavailable`
    /// too: nothing was sent.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        try await translatingErrors {
            try await awaitReachable()
            let client = await pools.current(), logger = self.logger
            return try await timed {
                try await abandoning(within: timeouts.operation) {
                    do {
                        return try await client.query(query, logger: logger)
                    } catch let error as PSQLError {
                        throw error
                    } catch {
                        // postgres-nio's `query` wraps every failure of the statement as `PSQLError`: this is its lease.
                        logger.warning("Database unavailable", metadata: ["error": "the connection pool refused a lease: \(error)"])
                        throw ZvonokError.unavailable()
                    }
                }
            }
        }
    }

    /// Turns a server's error into the contract's (`DatabaseErrorText.contractError`), logged; Zvonok's own errors
    /// pass. Input is validated before it gets here, so a 400 from this point is a limit validation missed — and the
    /// group commit's cue to retry its batch in halves (`ZvonokError.blamesInput`).
    func translatingErrors<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as ZvonokError {
            throw error
        } catch let error as PSQLError {
            throw translated(error)
        }
    }

    private func translated(_ error: PSQLError) -> any Error {
        guard let known = DatabaseErrorText.contractError(for: error) else {
            logger.error("Database error", metadata: ["error": "\(DatabaseErrorText.describe(error))"])
            return error
        }
        switch known.code {
        case .unavailable: logger.warning("Database unavailable", metadata: ["error": "\(error.code)"])
        // Only the code: the server's message and detail may quote the value, a message's text say.
        case .invalidArgument: logger.notice("Database refused a value", metadata: ["sqlState": "\(DatabaseErrorText.sqlState(error) ?? "")"])
        default: break
        }
        return known
    }
}
