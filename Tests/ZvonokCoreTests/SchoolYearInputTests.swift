import Foundation
import Testing

@testable import ZvonokCore

/// What the school-year routes take (issue 20): a rollover's years and grades, and the official registry's forms.
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

    @Test func aRegistryReadsFromJSONAndCSV() throws {
        let json = try OfficialRegistry.parse(json: Data(#"[{"officialId": " R1 ", "name": "Школа", "municipality": "Омск"}]"#.utf8))
        #expect(json.entries == [.init(officialId: "R1", name: "Школа", municipality: "Омск")])
        let csv = try OfficialRegistry.parse(csv: Data("\u{FEFF}name;officialId\r\n\"Школа; №2\";R2\r\n;\r\nЛицей;R3\r\n".utf8))
        #expect(csv.entries == [.init(officialId: "R2", name: "Школа; №2"), .init(officialId: "R3", name: "Лицей")])
    }

    @Test func aBadRegistryNamesItsEntry() {
        let refusals: [(String, String)] = [
            (#"[{"officialId": "R1", "name": "А"}, {"officialId": "R1", "name": "Б"}]"#, "entry 2: officialId R1 is listed twice"),
            (#"[{"officialId": "R1", "name": " "}]"#, "entry 1: name must be 1 to 200 characters, not only spaces"),
            (#"{"officialId": "R1"}"#, "the registry is a JSON array of {officialId, name, municipality?}"),
            ("[]", "the registry lists no organisation"),
            // An optional field is left out, never null (contract fuzzing found this one accepted).
            (#"[{"officialId": "R1", "name": "А", "municipality": null}]"#, "the registry is a JSON array of {officialId, name, municipality?}"),
        ]
        for (body, message) in refusals {
            #expect(throws: ZvonokError.invalidArgument(message)) { try OfficialRegistry.parse(json: Data(body.utf8)) }
        }
    }
}
