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
    /// for a connection is bounded by a reachability check just before (see `withLeasedConnection`).
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        try await translatingErrors {
            try await awaitReachable()
            return try await timed { try await client.query(query, logger: logger) }
        }
    }

    /// Unique violations become 409, missing references 404, text PostgreSQL cannot store 400, an unreachable server
    /// 503; Zvonok's own errors pass.
    func translatingErrors<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as ZvonokError {
            throw error
        } catch let error as PSQLError {
            switch error.serverInfo?[.sqlState] {
            case "23505": throw ZvonokError.conflict("already exists: \(error.serverInfo?[.detail] ?? "a duplicate")")
            case "23503": throw ZvonokError.notFound("a referenced object does not exist")
            // Text PostgreSQL cannot store (the NUL character) in a query parameter, say: the caller's input.
            case "22021": throw ZvonokError.invalidArgument("a text holds a character that cannot be stored (NUL)")
            case let state where state == nil || state!.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state!):
                // No answer, a lost connection, or a server shutting down or starting up.
                logger.warning("Database unavailable", metadata: ["error": "\(error.code)"])
                throw ZvonokError.unavailable()
            default:
                logger.error("Database error", metadata: ["error": "\(DatabaseErrorText.describe(error))"])
                throw error
            }
        }
    }
}
