import PostgresNIO
import Testing
import ZvonokCore
import ZvonokStorage
import ZvonokTestSupport

@Suite struct MessageStoreTests {
    /// Two bare chats to write into.
    func makeChats(_ database: Database) async throws -> (Int64, Int64) {
        let rows = try await database.client.query("INSERT INTO chats (kind, title) VALUES ('school', 'A'), ('school', 'B') RETURNING id")
        var ids: [Int64] = []
        for try await id in rows.decode(Int64.self) { ids.append(id) }
        return (ids[0], ids[1])
    }

    @Test func aBatchIsSequencedPerChatFromOne() async throws {
        try await withTestDatabase { database in
            let (a, b) = try await makeChats(database)
            let store = MessageStore(database: database)
            let batch = [
                PendingMessage(chatID: a, senderID: 1, cid: "1", text: "Привет"),
                PendingMessage(chatID: b, senderID: 2, cid: "1", text: "👍"),
                PendingMessage(chatID: a, senderID: 2, cid: "2", text: "Здравствуйте"),
                PendingMessage(chatID: a, senderID: 1, cid: "3", text: "Домашнее задание: №5"),
            ]
            let committed = try await store.commit(batch)
            #expect(committed.map(\.seq) == [1, 1, 2, 3])
            #expect(committed.allSatisfy { $0.isNew })
            let next = try await store.commit([PendingMessage(chatID: a, senderID: 1, cid: "4", text: "ещё")])
            #expect(next.map(\.seq) == [4])

            let activity = try await database.client.query(
                "SELECT person_id, messages, counted FROM activity_daily WHERE chat_id = \(b)"
            )
            for try await (person, messages, counted) in activity.decode((Int64, Int, Int).self) {
                #expect(person == 2)
                #expect(messages == 1)
                #expect(counted == 0)
            }
        }
    }

    @Test func aRetriedCidIsAckedWithTheOriginalAndStoredOnce() async throws {
        try await withTestDatabase { database in
            let (a, _) = try await makeChats(database)
            let store = MessageStore(database: database)
            let first = try await store.commit([PendingMessage(chatID: a, senderID: 7, cid: "k1", text: "раз")])
            let retry = try await store.commit([
                PendingMessage(chatID: a, senderID: 7, cid: "k1", text: "раз"),
                PendingMessage(chatID: a, senderID: 7, cid: "k2", text: "два"),
                PendingMessage(chatID: a, senderID: 7, cid: "k2", text: "два"),
            ])
            #expect(retry[0].seq == first[0].seq)
            #expect(retry[0].isNew == false)
            #expect(retry[1].seq == 2 && retry[1].isNew)
            #expect(retry[2].seq == 2 && !retry[2].isNew)
            let count = try await database.client.query("SELECT count(*)::int FROM messages WHERE chat_id = \(a)")
            for try await rows in count.decode(Int.self) { #expect(rows == 2) }
        }
    }

    @Test func concurrentBatchesIntoOneChatLeaveNoGapAndNoDuplicate() async throws {
        try await withTestDatabase { database in
            let (a, b) = try await makeChats(database)
            let store = MessageStore(database: database)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        for round in 0..<10 {
                            let batch = (0..<5).map { index in
                                PendingMessage(chatID: index % 2 == 0 ? a : b, senderID: Int64(writer), cid: "\(round)-\(index)", text: "m")
                            }
                            _ = try await store.commit(batch)
                        }
                    }
                }
                try await group.waitForAll()
            }
            for (chat, expected) in [(a, 8 * 10 * 3), (b, 8 * 10 * 2)] {
                let rows = try await database.client.query("SELECT seq FROM messages WHERE chat_id = \(chat) ORDER BY seq")
                var seqs: [Int64] = []
                for try await seq in rows.decode(Int64.self) { seqs.append(seq) }
                #expect(seqs == Array(1...Int64(expected)))
            }
        }
    }
}
