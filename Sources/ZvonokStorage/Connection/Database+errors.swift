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

    /// Runs one statement outside a transaction, timed, with failures turned into the contract's errors.
    ///
    /// The pool's own `query` keeps its lease until the rows are read, which a lent connection cannot, so the wait
    /// for a connection is bounded by a reachability check just before (see `withLeasedConnection`), and the wait
    /// for the answer by `timeouts.operation`: a frozen server's answer is given up on (`unavailable`), and the
    /// statement, abandoned, ends when the server answers or its connection dies.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        try await translatingErrors {
            try await awaitReachable()
            let client = self.client, logger = self.logger
            return try await timed {
                guard let limit = timeouts.operation else { return try await client.query(query, logger: logger) }
                do {
                    return try await withTimeout(limit) { try await client.query(query, logger: logger) }
                } catch is TimeoutError {
                    logger.warning("Database unavailable", metadata: ["error": "no answer within \(limit)"])
                    throw ZvonokError.unavailable()
                }
            }
        }
    }

    /// Unique violations become 409, missing references 404, other values PostgreSQL refuses 400 (a data exception,
    /// an integrity violation, a program limit such as an index entry over its size), an unreachable server or a
    /// statement cancelled by `statement_timeout` 503; Zvonok's own errors pass. Input is validated before it gets
    /// here, so a 400 from this point is a limit validation missed — and the group commit's cue to retry its batch in
    /// halves (`ZvonokError.blamesInput`).
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
        let state = error.serverInfo?[.sqlState]
        switch state {
        case "23505": return ZvonokError.conflict("already exists: \(error.serverInfo?[.detail] ?? "a duplicate")")
        case "23503": return ZvonokError.notFound("a referenced object does not exist")
        // Text PostgreSQL cannot store (the NUL character) in a query parameter, say: the caller's input.
        case "22021": return ZvonokError.invalidArgument("a text holds a character that cannot be stored (NUL)")
        case let state? where ["22", "23", "54"].contains(state.prefix(2)):
            // Only the code: the server's message and detail may quote the value, a message's text say.
            logger.notice("Database refused a value", metadata: ["sqlState": "\(state)"])
            return ZvonokError.invalidArgument("a value was refused by the database (too long or malformed)")
        case let state where state == nil || state!.hasPrefix("08") || ["57014", "57P01", "57P02", "57P03"].contains(state!):
            // No answer, a lost connection, a statement over its time limit, or a server shutting down or starting up.
            logger.warning("Database unavailable", metadata: ["error": "\(error.code)"])
            return ZvonokError.unavailable()
        default:
            logger.error("Database error", metadata: ["error": "\(DatabaseErrorText.describe(error))"])
            return error
        }
    }
}
