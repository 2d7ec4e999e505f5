import Foundation
import Hummingbird
import Testing

/// Need-to-know member lists (issue 15, hole 5): in school-wide and municipality chats students and guardians see
/// only the staff, with the number of members; in their class chats, every member; staff see everyone.
@Suite struct MemberListTests {
    @Test func studentsAndGuardiansSeeOnlyTheStaffOfTheSchoolChannel() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let channel = try #require(
                try await api.get("/v1/me/chats", token: school.token("guardian1")).items.first { $0["kind"] as? String == "school" }?["id"]
                    as? String)
            let staff: Set<String> = ["schoolAdmin", "teacher5", "teacher6"]
            let everyone = staff.union(["student1", "student2", "student3", "guardian1"])
            for (reader, visible) in [("guardian1", staff), ("student3", staff), ("teacher6", everyone), ("schoolAdmin", everyone)] {
                let answer = try expect(await api.get("/v1/chats/\(channel)/members", token: school.token(reader)), .ok)
                let listed = Set(answer.items.compactMap { $0["id"] as? String })
                #expect(listed == Set(visible.map(school.id)), "\(reader) saw \(answer.items.map { $0["name"] ?? "" })")
                #expect(answer["memberCount"] as? Int == everyone.count)
            }
            // A small page still pages through the staff alone.
            let first = try expect(await api.get("/v1/chats/\(channel)/members?limit=2", token: school.token("guardian1")), .ok)
            let cursor = try #require(first["next"] as? String)
            let second = try expect(await api.get("/v1/chats/\(channel)/members?limit=2&cursor=\(cursor)", token: school.token("guardian1")), .ok)
            #expect(Set((first.items + second.items).compactMap { $0["id"] as? String }) == Set(staff.map(school.id)))
        }
    }

    @Test func aParentsChatListsItsOwnMembers() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let parents = try #require(
                try await api.get("/v1/me/chats", token: school.token("guardian1")).items.first { $0["kind"] as? String == "class_parents" }?["id"]
                    as? String)
            let answer = try expect(await api.get("/v1/chats/\(parents)/members", token: school.token("guardian1")), .ok)
            #expect(Set(answer.items.compactMap { $0["id"] as? String }) == Set(["teacher5", "guardian1"].map(school.id)))
            #expect(answer["memberCount"] as? Int == 2)
        }
    }
}
