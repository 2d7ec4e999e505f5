import Foundation
import Testing

@testable import ZvonokCore

/// What the school-year routes take (issue 20): a rollover's years and grades.
@Suite struct SchoolYearInputTests {
    @Test func aRolloverGoesToTheNextYearAndGraduatesTheEleventhGrade() throws {
        let request = try RolloverRequest(from: "2026/2027", to: "2027/2028", graduatingGrades: nil)
        #expect(request.graduatingGrades == [11])
        #expect(try RolloverRequest(from: "2026/2027", to: "2027/2028", graduatingGrades: [9, 11]).graduatingGrades == [9, 11])
        for (from, to, grades) in [
            ("2026/2027", "2028/2029", nil), ("2026/2027", "2026/2027", nil), ("2026-2027", "2027/2028", nil),
            ("2026/2027", "2027/2028", [9]), ("2026/2027", "2027/2028", [0, 11]), ("2026/2027", "2027/2028", [11, 12]),
        ] as [(String, String, [Int]?)] {
            #expect(throws: ZvonokError.self) { try RolloverRequest(from: from, to: to, graduatingGrades: grades) }
        }
    }

}
