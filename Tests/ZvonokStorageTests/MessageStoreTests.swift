import Foundation
import PostgresNIO
import Synchronization
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
        try await enrol(Array(0...8), in: ids, on: database)
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
            let committed = try await store.commitAccepted(batch)
            #expect(committed.map(\.seq) == [1, 1, 2, 3])
            #expect(committed.allSatisfy { $0.isNew })
            let next = try await store.commitAccepted([PendingMessage(chatID: a, senderID: 1, cid: "4", text: "ещё")])
            #expect(next.map(\.seq) == [4])

            try await ActivityStore(database: database).applyQueued()
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
            let first = try await store.commitAccepted([PendingMessage(chatID: a, senderID: 7, cid: "k1", text: "раз")])
            let retry = try await store.commitAccepted([
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
                            _ = try await store.commitAccepted(batch)
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

    /// The same sends committed by several transactions at once (a client retrying on two nodes): each makes one
    /// message, every transaction is answered with that message's seq, and the chat's seqs have no gap — also when a
    /// transaction loses a claim after it numbered its batch.
    @Test func retriesRacingInConcurrentBatchesMakeEachMessageOnce() async throws {
        try await withTestDatabase { database in
            let (a, b) = try await makeChats(database)
            let store = MessageStore(database: database)
            let rounds = 10
            let answers = try await withThrowingTaskGroup(of: [String: Int64].self) { group in
                for racer in 0..<6 {
                    group.addTask {
                        var seqs: [String: Int64] = [:]
                        for round in 0..<rounds {
                            // Each racer sends the round's keys in its own order, with one send of its own among them.
                            var batch = (0..<5).map { PendingMessage(chatID: $0 % 2 == 0 ? a : b, senderID: 1, cid: "\(round)-\($0)", text: "m") }
                            batch.append(PendingMessage(chatID: a, senderID: 2, cid: "\(round)-own-\(racer)", text: "m"))
                            for message in try await store.commitAccepted(racer % 2 == 0 ? batch : batch.reversed()) {
                                seqs["\(message.chatID)/\(message.cid)/\(message.senderID)"] = message.seq
                            }
                        }
                        return seqs
                    }
                }
                return try await group.reduce(into: [[String: Int64]]()) { $0.append($1) }
            }
            for answer in answers.dropFirst() {
                for (key, seq) in answer where answers[0][key] != nil {
                    #expect(answers[0][key] == seq, "every racer is answered with the one message of \(key)")
                }
            }
            for (chat, expected) in [(a, rounds * (3 + 6)), (b, rounds * 2)] {
                let rows = try await database.client.query("SELECT seq FROM messages WHERE chat_id = \(chat) ORDER BY seq")
                var seqs: [Int64] = []
                for try await seq in rows.decode(Int64.self) { seqs.append(seq) }
                #expect(seqs == Array(1...Int64(expected)))
            }
            let receipts = try await database.client.query(
                "SELECT count(*)::int FROM message_receipts r JOIN messages m ON m.chat_id = r.chat_id AND m.seq = r.seq AND m.sender_id = r.sender_id AND m.cid = r.cid"
            )
            for try await matched in receipts.decode(Int.self) { #expect(matched == rounds * (5 + 6), "each receipt names its message") }
            try await ActivityStore(database: database).applyQueued()
            let activity = try await database.client.query("SELECT sum(messages)::int FROM activity_daily")
            for try await counted in activity.decode(Int.self) { #expect(counted == rounds * (5 + 6), "activity counts each message once") }
        }
    }

    /// The database has the last word on who posts: a node whose view of membership is behind cannot let a removed
    /// person write, and one refused send fails nobody else in its batch.
    @Test func onlyMembersPostAndNobodyPostsInAnArchivedChat() async throws {
        try await withTestDatabase { database in
            let (a, b) = try await makeChats(database)
            let store = MessageStore(database: database)
            try await database.client.query("DELETE FROM chat_members WHERE chat_id = \(a) AND person_id = 2")
            try await database.client.query("UPDATE chats SET archived_at = now() WHERE id = \(b)")
            let results = try await store.commit([
                PendingMessage(chatID: a, senderID: 1, cid: "member", text: "Привет"),
                PendingMessage(chatID: a, senderID: 2, cid: "left", text: "Я ушёл, но пишу"),
                PendingMessage(chatID: b, senderID: 1, cid: "archived", text: "Есть кто?"),
                PendingMessage(chatID: a, senderID: 2, cid: "left", text: "Я ушёл, но пишу"),
            ])
            #expect(try results[0].get().seq == 1)
            for refused in results[1...] {
                #expect(throws: ZvonokError.self) { try refused.get() }
            }
            let stored = try await database.client.query("SELECT count(*)::int FROM messages").collectOne(Int.self)
            #expect(stored == 1)
            let receipts = try await database.client.query("SELECT count(*)::int FROM message_receipts").collectOne(Int.self)
            #expect(receipts == 1, "a refused cid stays free")
        }
    }

    /// Hole 3 of issue 15, below validation: a cid whose index entry is over PostgreSQL's size limit (54000) used to
    /// fail the whole group commit; now it fails alone and the rest of its batch is acked in order.
    @Test func aMessageThePostgresIndexRefusesFailsAloneInItsGroupCommit() async throws {
        try await withTestDatabase { database in
            let (chat, _) = try await makeChats(database)
            let store = MessageStore(database: database)
            let attempts = Mutex<[Int]>([])
            let committer = GroupCommitter(
                maximumBatch: 100,
                commit: { batch in
                    attempts.withLock { $0.append(batch.count) }
                    return try await store.commit(batch)
                }
            ) { _ in }
            // Random hex does not compress: about 11 KB in the (sender, cid) index, four times its limit.
            let poison = (0..<300).map { _ in UUID().uuidString }.joined()
            let cids = (0..<30).map { "ok-\($0)" }
            let replies = Mutex<[String: Result<CommittedMessage, any Error>]>([:])
            let answered = AsyncStream.makeStream(of: Void.self)
            for cid in cids[..<15] + [poison] + cids[15...] {
                committer.submit(PendingMessage(chatID: chat, senderID: 1, cid: cid, text: "урок")) { result in
                    let done = replies.withLock { replies in
                        replies[cid] = result
                        return replies.count == cids.count + 1
                    }
                    if done { answered.continuation.finish() }
                }
            }
            for await _ in answered.stream {}
            let results = replies.withLock { $0 }
            #expect(throws: ZvonokError.self) { try results[poison]!.get() }
            if case .failure(let error as ZvonokError) = results[poison] { #expect(error.code == .invalidArgument) }
            let acked = try cids.map { try results[$0]!.get().seq }
            #expect(acked == Array(1...30), "every other sender is acked, in submission order")
            #expect(attempts.withLock { $0.contains { $0 > 1 } }, "the poisoned message shared a batch")
            let stored = try await database.client.query("SELECT count(*)::int FROM messages WHERE chat_id = \(chat)")
            for try await count in stored.decode(Int.self) { #expect(count == 30) }
        }
    }
}
