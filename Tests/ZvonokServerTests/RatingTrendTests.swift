import Foundation
import Hummingbird
import Testing
import ZvonokCore

/// `GET /v1/ratings/weekly/trend` (issue 19) over `WeeklyRatingTests`' world: every point is the weekly rating of
/// its week, for the same caller, and asking twice (the second time from the finished weeks kept in memory)
/// answers the same.
@Suite struct RatingTrendTests {
    let weekly = WeeklyRatingTests()

    func trend(_ api: APIClient, _ query: String, token: String) async throws -> Answer {
        try await api.get("/v1/ratings/weekly/trend?\(query)", token: token)
    }

    func points(_ answer: Answer, _ key: String) throws -> [[String: Any]] {
        try #require(weekly.item(answer, key)["points"] as? [[String: Any]])
    }

    @Test func everyPointIsThatWeeksRating() async throws {
        try await withTestServer { api in
            let world = try await weekly.build(api)
            let ministry = api.ministryToken
            let last = world.week.next
            let weeks = [world.week.previous, world.week, last].map(\.description)
            let answer = try expect(await trend(api, "week=\(last)&weeks=3&level=school&region=55", token: ministry), .ok)
            #expect(answer["weeks"] as? [String] == weeks)
            #expect(answer["partial"] as? Bool == false)
            #expect(answer.string("level") == "school")
            // The school's scores as WeeklyRatingTests counts them: 45, 70, 64.
            #expect(try points(answer, world.id("school")).compactMap { ($0["score"] as? NSNumber)?.doubleValue } == [45, 70, 64])
            for (index, week) in weeks.enumerated() {
                let rating = try expect(await weekly.rating(api, "week=\(week)&level=school&region=55", token: ministry), .ok)
                for item in rating.items {
                    let point = try points(answer, item["id"] as! String)[index]
                    #expect(point["week"] as? String == week)
                    for column in [
                        "score", "rank", "schoolsShare", "teachersShare", "teachersActiveShare", "teachersEngagedShare", "schoolsActiveShare",
                    ] {
                        #expect((point[column] as? NSNumber) == (item[column] as? NSNumber), "\(week) \(column)")
                    }
                }
            }
            // Items follow the newest week's ranks.
            let newest = try expect(await weekly.rating(api, "week=\(last)&level=school&region=55", token: ministry), .ok)
            #expect(answer.items.compactMap { $0["id"] as? String } == newest.items.compactMap { $0["id"] as? String })
            let again = try expect(await trend(api, "week=\(last)&weeks=3&level=school&region=55", token: ministry), .ok)
            #expect(NSDictionary(dictionary: again.json as! [String: Any]) == NSDictionary(dictionary: answer.json as! [String: Any]))

            // Twelve weeks by default, ending with the last complete week; regions have codes.
            let regions = try expect(await trend(api, "level=region", token: ministry), .ok)
            #expect((regions["weeks"] as? [String])?.count == 12)
            #expect((regions["weeks"] as? [String])?.last == RatingWeek.containing(Date()).previous.description)
            #expect(regions.items.compactMap { $0["code"] as? String } == ["55", "77"])
        }
    }

    @Test func scopedAsTheWeeklyRatingAndCheckedAsIt() async throws {
        try await withTestServer { api in
            let world = try await weekly.build(api)
            let week = "week=\(world.week)"
            let mine = try expect(await trend(api, "\(week)&weeks=2&level=school", token: world.token("municipal")), .ok)
            #expect(mine.items.compactMap { $0["id"] as? String } == [world.id("school"), world.id("lyceum")])
            let own = try expect(await trend(api, "\(week)&level=region", token: world.token("regional")), .ok)
            #expect(own.items.compactMap { $0["code"] as? String } == ["55"])
            try expect(await trend(api, "\(week)&level=region", token: world.token("municipal")), .forbidden)
            try expect(await trend(api, "\(week)&level=school&region=55", token: world.token("schoolAdmin")), .forbidden)
            try expect(await api.get("/v1/ratings/weekly/trend?level=region", token: nil), .unauthorized)
            for query in ["level=region&weeks=0", "level=region&weeks=54", "level=region&weeks=x", "level=school", "weeks=3"] {
                let answer = try expect(await trend(api, query, token: api.ministryToken), .badRequest)
                #expect(answer.errorCode == "invalid_argument", "\(query)")
            }
            try expect(await trend(api, "level=school&region=99", token: api.ministryToken), .notFound)
        }
    }
}
