import PostgresNIO
public import ZvonokCore

/// Turns a postgres-nio error into the server's own words: `PSQLError` hides them from its description.
public enum DatabaseErrorText {
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            let detail = error.serverInfo?[.detail].map { " (\($0))" } ?? ""
            return message + detail
        }
        return "\(error.code)"
    }

    /// The SQLSTATE of a server error, such as `23505` for a unique violation.
    public static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// The contract's error for a server error that the input or the server's state explains: a unique violation
    /// 409, a missing reference 404, any other value PostgreSQL refuses 400 (a data exception, an integrity
    /// violation, a program limit such as an index entry over its size), no answer, a lost connection, a statement
    /// cancelled by `statement_timeout` or a server shutting down or starting up 503; nil for anything else (a fault of
    /// Zvonok's own). Errors arrive with the rows as well as with the query, so the HTTP layer asks this too.
    public static func contractError(for error: any Error) -> ZvonokError? {
        guard let error = error as? PSQLError else { return nil }
        switch error.serverInfo?[.sqlState] {
        case "23505": return .conflict("already exists: \(error.serverInfo?[.detail] ?? "a duplicate")")
        case "23503": return .notFound("a referenced object does not exist")
        // Text PostgreSQL cannot store (the NUL character) in a query parameter, say: the caller's input.
        case "22021": return .invalidArgument("a text holds a character that cannot be stored (NUL)")
        case let state? where ["22", "23", "54"].contains(state.prefix(2)):
            return .invalidArgument("a value was refused by the database (too long or malformed)")
        case let state where state == nil || state!.hasPrefix("08") || ["57014", "57P01", "57P02", "57P03"].contains(state!):
            return .unavailable()
        default:
            return nil
        }
    }
}
