import Foundation
import PostgresNIO
import Testing
import ZvonokCore
import ZvonokStorage
import ZvonokTestSupport

/// Edits and deletions keep the rating's counted messages exact within the week, and leave past weeks alone.
@Suite struct MessageChangeTests {
    func counted(_ database: Database, chat: Int64) async throws -> Int {
        try await ActivityStore(database: database).applyQueued()
        let rows = try await database.client.query("SELECT coalesce(sum(counted), 0)::int FROM activity_daily WHERE chat_id = \(chat)")
        return try await rows.decode(Int.self).first { _ in true } ?? -1
    }

    func chat(_ database: Database) async throws -> Int64 {
        try await MessageAuthor.create(in: database)
        let rows = try await database.client.query("INSERT INTO chats (kind, title) VALUES ('class', '5А') RETURNING id")
        let chat = try await rows.decode(Int64.self).first { _ in true }!
        try await enrol([1], in: [chat], on: database)
        return chat
    }

    @Test func deletingOrEditingWithinTheWeekMovesTheCountedMessages() async throws {
        try await withTestDatabase { database in
            let chat = try await chat(database)
            let store = MessageStore(database: database)
            _ = try await store.commitAccepted([
                PendingMessage(chatID: chat, senderID: 1, cid: "a", text: "Контрольная в пятницу"),
                PendingMessage(chatID: chat, senderID: 1, cid: "b", text: "👍"),
            ])
            #expect(try await counted(database, chat: chat) == 1)
            // Emoji edited into words counts; words deleted stop counting.
            _ = try await store.edit(chat: chat, seq: 2, by: 1, text: "Понял, спасибо")
            #expect(try await counted(database, chat: chat) == 2)
            let deleted = try await store.delete(chat: chat, seq: 1, by: MessageAuthor.identity)
            #expect(deleted.changed)
            #expect(try await counted(database, chat: chat) == 1)
            // Deleting again changes nothing.
            #expect(try await store.delete(chat: chat, seq: 1, by: MessageAuthor.identity).changed == false)
            #expect(try await counted(database, chat: chat) == 1)
            await #expect(throws: ZvonokError.self) { try await store.edit(chat: chat, seq: 1, by: 1, text: "воскрес") }
            await #expect(throws: ZvonokError.self) { try await store.delete(chat: chat, seq: 2, by: MessageAuthor.stranger) }
        }
    }

    @Test func aMessageDeletedAfterItsWeekStillCountsForThatWeek() async throws {
        try await withTestDatabase { database in
            let chat = try await chat(database)
            let store = MessageStore(database: database)
            _ = try await store.commitAccepted([PendingMessage(chatID: chat, senderID: 1, cid: "a", text: "Собрание в четверг")])
            // Move the message and its roll-up two weeks back, as if it had been sent then.
            try await database.client.query("UPDATE messages SET sent_at = sent_at - interval '14 days' WHERE chat_id = \(chat)")
            try await ActivityStore(database: database).applyQueued()
            try await database.client.query("UPDATE activity_daily SET day = day - 14 WHERE chat_id = \(chat)")
            _ = try await store.delete(chat: chat, seq: 1, by: MessageAuthor.identity)
            #expect(try await counted(database, chat: chat) == 1)
        }
    }

    @Test func readMarksMoveForwardOnlyAndStopAtTheLastMessage() async throws {
        try await withTestDatabase { database in
            let chat = try await chat(database)
            let person = try await database.client.query("INSERT INTO people (role, name, region_code) VALUES ('ministry', 'М', NULL) RETURNING id")
                .decode(Int64.self).first { _ in true }!
            try await database.client.query("INSERT INTO chat_members (chat_id, person_id) VALUES (\(chat), \(person))")
            let store = MessageStore(database: database)
            _ = try await store.commitAccepted([
                PendingMessage(chatID: chat, senderID: person, cid: "a", text: "раз"),
                PendingMessage(chatID: chat, senderID: person, cid: "b", text: "два"),
            ])
            #expect(try await store.markRead(chat: chat, by: person, through: 9) == (0, 2))
            #expect(try await store.markRead(chat: chat, by: person, through: 1) == (2, 2))
            await #expect(throws: ZvonokError.self) { try await store.markRead(chat: chat, by: person + 1, through: 1) }
        }
    }
}
