import ZvonokStorage

extension DatabaseSession {
    /// Runs `body` while the database client runs, then shuts the client down and stops an embedded cluster this
    /// process started: one-off commands leave things as they found them.
    func withRunningClient<Result: Sendable>(_ database: Database, _ body: () async throws -> Result) async throws -> Result {
        let outcome: Result
        do {
            outcome = try await Self.whileRunning(database, body)
        } catch {
            if startedHere { try? await embedded?.stop() }
            throw error
        }
        if startedHere { try await embedded?.stop() }
        return outcome
    }

    /// Runs `body` while the database client runs, then shuts the client down; the cluster keeps running.
    static func whileRunning<Result: Sendable>(_ database: Database, _ body: () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}
