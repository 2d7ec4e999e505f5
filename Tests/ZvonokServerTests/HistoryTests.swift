import Foundation
import Hummingbird
import Testing
import ZvonokCore
import ZvonokStorage
import ZvonokTestSupport

@Suite struct HistoryTests {
    @Test func membersPageThroughHistoryNewestFirstAndOthersSeeNothing() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let chats = try await api.get("/v1/me/chats", token: school.token("teacher5")).items
            let classChat = try #require(chats.first { $0["kind"] as? String == "class" }?["id"] as? String)
            let chatID = try #require(PublicID.decode(.chat, classChat))
            let sender = try #require(PublicID.decode(.person, school.id("teacher5")))
            _ = try await withRunningDatabase(api.databaseURL) { database in
                try await MessageStore(database: database).commitAccepted(
                    ["Первое", "Второе", "Третье"].enumerated().map {
                        PendingMessage(chatID: chatID, senderID: sender, cid: "\($0.offset)", text: $0.element)
                    }
                )
            }
            let path = "/v1/chats/\(classChat)/messages"
            let first = try await expect(api.get("\(path)?limit=2", token: school.token("student1")), .ok)
            #expect(first.items.map { $0["seq"] as? Int } == [3, 2])
            #expect(first.items.first?["text"] as? String == "Третье")
            #expect(first.items.first?["from"] as? String == school.id("teacher5"))
            #expect(first.items.first?["id"] as? String == "\(classChat).3")
            #expect((first.items.first?["ts"] as? String)?.hasSuffix("Z") == true)
            let cursor = try #require(first.string("next"))
            let second = try await expect(api.get("\(path)?limit=2&cursor=\(cursor)", token: school.token("student1")), .ok)
            #expect(second.items.map { $0["seq"] as? Int } == [1])
            #expect(second["next"] is NSNull)
            let before = try await expect(api.get("\(path)?before=3", token: school.token("teacher5")), .ok)
            #expect(before.items.map { $0["seq"] as? Int } == [2, 1])

            // Not a member of 5А's class chat: it does not exist for them.
            try await expect(api.get(path, token: school.token("student3")), .notFound)
            try await expect(api.get(path, token: school.token("regional")), .notFound)
            try await expect(api.get("\(path)?before=0", token: school.token("teacher5")), .badRequest)
        }
    }
}
