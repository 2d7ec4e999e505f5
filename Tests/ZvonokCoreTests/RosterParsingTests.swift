import Foundation
import Testing

@testable import ZvonokCore

@Suite struct RosterParsingTests {
    @Test func csvWithBOMSemicolonsAndQuotesParses() throws {
        let csv =
            "\u{FEFF}type;externalId;name;role;grade;letter;year;class;classes;homeroom;students\r\n"
            + "class;K5A;;;5;А;2026/2027;;;;\r\n"
            + "staff;T1;\"Иванова; Мария\";teacher;;;;;K5A|K6B;K5A;\r\n"
            + "student;S1;\"Петя \"\"Быстрый\"\"\";;;;;K5A;;;\r\n"
            + "guardian;G1;Мама;;;;;;;;S1\r\n"
            + "\r\n"
            + "teacher;X;Y;;;;;;;;\r\n"
        let roster = try Roster.parse(csv: Data(csv.utf8))
        #expect(roster.classes == [.init(line: 2, externalID: "K5A", grade: 5, letter: "А", year: "2026/2027")])
        #expect(roster.staff.first?.name == "Иванова; Мария")
        #expect(roster.staff.first?.classes == ["K5A", "K6B"])
        #expect(roster.staff.first?.homeroom == ["K5A"])
        #expect(roster.students.first?.name == "Петя \"Быстрый\"")
        #expect(roster.guardians.first?.students == ["S1"])
        #expect(roster.errors == [.init(line: 7, message: "type must be class, staff, student or guardian")])
    }

    @Test func csvWithCommasAndBadRowsReportsLines() throws {
        let csv = """
            type,externalId,name,grade,letter,year,class
            class,K1,,12,А,2026/2027,
            student,S1,,,,,K1
            class,K2,,5,Б,2026/2028,
            """
        let roster = try Roster.parse(csv: Data(csv.utf8))
        #expect(roster.errors.map(\.line) == [2, 3, 4])
        #expect(roster.errors[0].message.contains("grade"))
        #expect(roster.errors[1].message.contains("name"))
        #expect(roster.errors[2].message.contains("year"))
    }

    @Test func jsonFormNumbersItemsAcrossSections() throws {
        let json = """
            {"classes": [{"externalId": "K1", "grade": 5, "letter": "А", "year": "2026/2027"}],
             "staff": [{"externalId": "T1", "name": "Учитель", "role": "teacher", "classes": [{"class": "K1", "homeroom": true}]}],
             "students": [{"externalId": "S1", "name": "Ученик", "class": "K1"}, {"externalId": "S2", "class": "K1"}],
             "guardians": [{"externalId": "G1", "name": "Родитель", "students": ["S1"]}]}
            """
        let roster = try Roster.parse(json: Data(json.utf8))
        #expect(roster.staff.first?.homeroom == ["K1"])
        #expect(roster.students.count == 1)
        #expect(roster.errors == [.init(line: 4, message: "name is missing")])
        #expect(roster.guardians.first?.line == 5)
    }

    @Test func malformedDocumentsAreRefusedWhole() {
        #expect(throws: ZvonokError.self) { try Roster.parse(json: Data("[1, 2]".utf8)) }
        #expect(throws: ZvonokError.self) { try Roster.parse(csv: Data("name,grade\nx,1".utf8)) }
        #expect(throws: ZvonokError.self) { try Roster.parse(csv: Data([0xFF, 0xFE, 0x00])) }
    }
}
