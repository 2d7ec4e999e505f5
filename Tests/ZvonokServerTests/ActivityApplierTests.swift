import PostgresNIO
import Testing
import ZvonokCore
import ZvonokServer
import ZvonokStorage
import ZvonokTestSupport

/// The background service that applies queued activity (sql/007) without any read asking for it.
@Suite struct ActivityApplierTests {
    @Test func queuedActivityIsAppliedInTheBackground() async throws {
        try await withTestDatabaseURL { url in
            try await withRunningDatabase(url) { database in
                let chat = try #require(
                    try await database.query("INSERT INTO chats (kind, title) VALUES ('school', 'A') RETURNING id").decode(Int64.self).first { _ in
                        true
                    })
                try await enrol([1], in: [chat], on: database)
                _ = try await MessageStore(database: database).commitAccepted([PendingMessage(chatID: chat, senderID: 1, cid: "a", text: "Привет")])
                #expect(try await appliedMessages(database) == 0)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await ActivityApplier(database: database, interval: .milliseconds(20), logger: testLogger).run() }
                    defer { group.cancelAll() }
                    let deadline = ContinuousClock.now + .seconds(10)
                    while try await appliedMessages(database) == 0, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                }
                #expect(try await appliedMessages(database) == 1)
            }
        }
    }

    func appliedMessages(_ database: Database) async throws -> Int {
        try await database.query("SELECT coalesce(sum(messages), 0)::int FROM activity_daily").decode(Int.self).first { _ in true } ?? -1
    }
}
