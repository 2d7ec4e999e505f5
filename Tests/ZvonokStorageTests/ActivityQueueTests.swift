import PostgresNIO
import Testing
import ZvonokCore
import ZvonokStorage
import ZvonokTestSupport

/// The activity queue (sql/007): group commits, edits and deletions append to it, and applying it moves every
/// queued row into `activity_daily` and the rating's roll-ups exactly once, however appliers and commits interleave.
@Suite struct ActivityQueueTests {
    func makeChats(_ database: Database, count: Int) async throws -> [Int64] {
        let rows = try await database.client.query(
            "INSERT INTO chats (kind, title) SELECT 'school', 'C' || n FROM generate_series(1, \(count)) AS n RETURNING id"
        )
        var ids: [Int64] = []
        for try await id in rows.decode(Int64.self) { ids.append(id) }
        try await enrol(Array(1...400), in: ids, on: database)
        return ids
    }

    /// A batch with one message of each of `senders` people, spread over the chats; every other one counts.
    func batch(_ chats: [Int64], senders: Int, tag: String) -> [PendingMessage] {
        (0..<senders).map { sender in
            PendingMessage(
                chatID: chats[sender % chats.count], senderID: Int64(sender + 1), cid: "\(tag)-\(sender)",
                text: sender % 2 == 0 ? "Домашнее задание" : "👍")
        }
    }

    func total(_ database: Database, _ sql: String) async throws -> Int {
        try await database.client.query(PostgresQuery(unsafeSQL: sql)).collectOne(Int.self)
    }

    /// Messages and counted messages in activity_daily, and counted messages in the chats' weekly roll-up.
    func totals(_ database: Database) async throws -> [Int] {
        [
            try await total(database, "SELECT coalesce(sum(messages), 0)::int FROM activity_daily"),
            try await total(database, "SELECT coalesce(sum(counted), 0)::int FROM activity_daily"),
            try await total(database, "SELECT coalesce(sum(counted), 0)::int FROM rating_chat_weeks"),
        ]
    }

    @Test func theGroupCommitQueuesActivityUntilItIsApplied() async throws {
        try await withTestDatabase { database in
            let chats = try await makeChats(database, count: 2)
            _ = try await MessageStore(database: database).commitAccepted(batch(chats, senders: 6, tag: "a"))
            #expect(try await total(database, "SELECT count(*)::int FROM activity_daily") == 0)
            #expect(try await total(database, "SELECT count(*)::int FROM activity_queue") == 6)
            #expect(try await ActivityStore(database: database).applyQueued() == 6)
            #expect(try await totals(database) == [6, 3, 3])
            #expect(try await ActivityStore(database: database).applyQueued() == 0)
            #expect(try await totals(database) == [6, 3, 3])
        }
    }

    /// Thousands of queued rows taken by four appliers at once, on four connections: each row is taken by one of
    /// them, and activity_daily and the roll-up count each message once.
    @Test func appliersRacingApplyEachQueuedRowOnce() async throws {
        try await withTestDatabase { database in
            let chats = try await makeChats(database, count: 4)
            let store = MessageStore(database: database)
            let (batches, senders) = (40, 400)
            for round in 0..<batches { _ = try await store.commitAccepted(batch(chats, senders: senders, tag: "\(round)")) }
            #expect(try await total(database, "SELECT count(*)::int FROM activity_queue") == batches * senders)

            let taken = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 { group.addTask { try await ActivityStore(database: database).applyQueued() } }
                return try await group.reduce(0, +)
            }
            #expect(taken == batches * senders, "every queued row is taken once")
            #expect(try await totals(database) == [batches * senders, batches * senders / 2, batches * senders / 2])
            let perSender =
                "SELECT count(*)::int FROM (SELECT sum(messages) AS sent FROM activity_daily GROUP BY chat_id, person_id) s WHERE sent <> \(batches)"
            #expect(try await total(database, perSender) == 0, "each sender's row holds each of their messages once")
            #expect(try await total(database, "SELECT count(*)::int FROM activity_queue") == 0)
        }
    }

    /// Group commits on several connections while two appliers keep applying: nothing a commit queued is lost or
    /// applied twice, whichever side of an application's snapshot it committed on.
    @Test func commitsRacingAppliersLoseNothing() async throws {
        try await withTestDatabase { database in
            let chats = try await makeChats(database, count: 3)
            let store = MessageStore(database: database)
            let (writers, rounds, senders) = (4, 25, 40)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        for round in 0..<rounds { _ = try await store.commitAccepted(batch(chats, senders: senders, tag: "\(writer)-\(round)")) }
                    }
                }
                for _ in 0..<2 {
                    group.addTask {
                        for _ in 0..<60 {
                            try await ActivityStore(database: database).applyQueued()
                            try await Task.sleep(for: .milliseconds(5))
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await ActivityStore(database: database).applyQueued()
            let sent = writers * rounds * senders
            #expect(try await totals(database) == [sent, sent / 2, sent / 2])
        }
    }

    /// An edit and a deletion of messages whose activity is still queued: their deltas are queued behind it and
    /// net out once applied.
    @Test func editsAndDeletionsOfQueuedMessagesNetOut() async throws {
        try await withTestDatabase { database in
            let chat = try await makeChats(database, count: 1)[0]
            try await MessageAuthor.create(in: database)
            let store = MessageStore(database: database)
            _ = try await store.commitAccepted([
                PendingMessage(chatID: chat, senderID: 1, cid: "a", text: "Контрольная в пятницу"),
                PendingMessage(chatID: chat, senderID: 1, cid: "b", text: "👍"),
                PendingMessage(chatID: chat, senderID: 1, cid: "c", text: "Родительское собрание"),
            ])
            _ = try await store.edit(chat: chat, seq: 2, by: 1, text: "Понял, спасибо")
            _ = try await store.edit(chat: chat, seq: 3, by: 1, text: "🙂")
            _ = try await store.delete(chat: chat, seq: 1, by: MessageAuthor.identity)
            #expect(try await total(database, "SELECT count(*)::int FROM activity_daily") == 0, "nothing applied yet")
            try await ActivityStore(database: database).applyQueued()
            // Three sent; of the counted, "a" was deleted and "c" edited to an emoji, "b" edited into words.
            #expect(try await totals(database) == [3, 1, 1])
            #expect(try await total(database, "SELECT count(*)::int FROM activity_daily") == 1)
        }
    }
}
