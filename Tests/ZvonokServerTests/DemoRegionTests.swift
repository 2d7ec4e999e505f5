import Foundation
import Hummingbird
import PostgresNIO
import Testing
import ZvonokCore
import ZvonokDemo
import ZvonokServer
import ZvonokStorage

/// `serve --demo`'s region: made once, its sign-in codes work, and a second start adds nothing.
@Suite struct DemoRegionTests {
    @Test func preparingTwiceMakesTheRegionOnceWithFreshWorkingInvites() async throws {
        try await withTestServer { api in
            let first = try await Self.prepare(api)
            let before = try await Self.counts(api.databaseURL)
            let second = try await Self.prepare(api)
            #expect(try await Self.counts(api.databaseURL) == before)
            #expect(first.map(\.name) == second.map(\.name))
            #expect(first.first?.role == .ministry)
            #expect(Set(first.map(\.role)).isSuperset(of: [.schoolAdmin, .teacher, .student, .guardian]))

            // The first start's codes were voided; the second start's sign people in.
            let teacher = try #require(second.first { $0.role == .teacher })
            let stale = try #require(first.first { $0.role == .teacher })
            #expect(try await api.post("/v1/invites/\(stale.inviteCode)/activate", token: nil).status == .notFound)
            let token = try await api.activate(teacher.inviteCode)
            let chats = try await api.get("/v1/me/chats", token: token).items
            let classChat = try #require(chats.first { $0["kind"] as? String == "class" })
            #expect((classChat["lastSeq"] as? Int ?? 0) > 0, "the sample conversation is there")
            let members = try await api.get("/v1/chats/\(classChat["id"] as? String ?? "")/members", token: token).items
            #expect(members.contains { $0["name"] as? String == teacher.name })

            let ministry = try await api.activate(try #require(second.first).inviteCode)
            let rating = try await api.get("/v1/ratings/weekly?level=school&region=\(DemoRegion.regionCode)&week=\(Self.thisWeek())", token: ministry)
            #expect(rating.status == .ok)
            #expect(rating.items.count == 2)
        }
    }

    @Test func membersAreHiddenFromNonMembers() async throws {
        try await withTestServer { api in
            let signIns = try await Self.prepare(api)
            let student = try await api.activate(try #require(signIns.first { $0.role == .student }).inviteCode)
            let teacher = try await api.activate(try #require(signIns.first { $0.role == .teacher }).inviteCode)
            let staffChat = try await api.get("/v1/me/chats", token: teacher).items.first { $0["kind"] as? String == "school_staff" }
            let answer = try await api.get("/v1/chats/\(staffChat?["id"] as? String ?? "")/members", token: student)
            #expect(answer.status == .notFound)
        }
    }

    /// What `serve --demo` does before serving.
    static func prepare(_ api: APIClient) async throws -> [DemoRegion.SignIn] {
        try await withRunningDatabase(api.databaseURL) { try await DemoRegion(database: $0).prepare(inviteLifetime: .seconds(3600)) }
    }

    /// People, schools, chats and messages of the database.
    static func counts(_ url: DatabaseURL) async throws -> [Int] {
        try await withRunningDatabase(url) { database in
            let rows = try await database.query(
                "SELECT (SELECT count(*) FROM people), (SELECT count(*) FROM schools), (SELECT count(*) FROM chats), (SELECT count(*) FROM messages)"
            )
            var counts: [Int] = []
            for try await row in rows.decode((Int, Int, Int, Int).self) { counts = [row.0, row.1, row.2, row.3] }
            return counts
        }
    }

    /// The current ISO week in Moscow time, as the rating names weeks.
    static func thisWeek() -> String {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(secondsFromGMT: 3 * 3600)!
        let parts = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: Date())
        return String(format: "%04d-W%02d", parts.yearForWeekOfYear!, parts.weekOfYear!)
    }
}
