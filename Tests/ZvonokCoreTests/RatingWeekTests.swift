import Foundation
import Testing

@testable import ZvonokCore

@Suite struct RatingWeekTests {
    /// An instant given in Moscow time.
    func moscow(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text + "+03:00")!
    }

    @Test func parsesAndPrintsIsoWeeks() throws {
        let week = try RatingWeek(parsing: "2026-W47")
        #expect(week.description == "2026-W47")
        #expect(week.firstDayText == "2026-11-16")
        #expect(week.lastDayText == "2026-11-22")
        #expect(try RatingWeek(parsing: "2026-W01").firstDayText == "2025-12-29")
        #expect(try RatingWeek(parsing: "2026-W53").firstDayText == "2026-12-28")
        #expect(try RatingWeek(parsing: "2021-W01").firstDayText == "2021-01-04")
        #expect(try RatingWeek(parsing: "2020-W53").lastDayText == "2021-01-03")
        #expect(try RatingWeek(parsing: "2026-W05").description == "2026-W05")
    }

    @Test func refusesWhatIsNotAnIsoWeek() {
        for text in ["2026-47", "2026-W1", "2026W47", "2026-W00", "2025-W53", "2026-W54", "20260-W1", "2026-w47", "", "2026-W4a", "٢٠٢٦-W47"] {
            #expect(throws: ZvonokError.self, "\(text)") { try RatingWeek(parsing: text) }
        }
    }

    @Test func weeksTurnAtMidnightMoscowTimeBetweenSundayAndMonday() throws {
        let w47 = try RatingWeek(parsing: "2026-W47")
        #expect(RatingWeek.containing(moscow("2026-11-22T23:59:59")) == w47)
        #expect(RatingWeek.containing(moscow("2026-11-23T00:00:00")) == w47.next)
        #expect(RatingWeek.containing(moscow("2026-11-16T00:00:00")) == w47)
        #expect(RatingWeek.containing(moscow("2026-11-15T23:59:59")) == w47.previous)
        // Monday 00:00 MSK is Sunday 21:00 UTC.
        #expect(w47.start == ISO8601DateFormatter().date(from: "2026-11-15T21:00:00Z"))
        #expect(w47.end == ISO8601DateFormatter().date(from: "2026-11-22T21:00:00Z"))
        #expect(w47.next.start == w47.end)
    }

    @Test func stepsAcrossYears() throws {
        let last = try RatingWeek(parsing: "2026-W53")
        #expect(last.next.description == "2027-W01")
        #expect(last.next.previous == last)
        #expect(try RatingWeek(parsing: "2026-W01").previous.description == "2025-W52")
        #expect(try RatingWeek(parsing: "2026-W01") < last)
    }
}
