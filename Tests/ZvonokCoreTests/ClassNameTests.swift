import Testing
import ZvonokCore

/// `Validation.className`: a class's name as people say it, read into a grade and a letter with no ambiguity.
@Suite struct ClassNameTests {
    @Test func namesPeopleSayAreRead() throws {
        let cases: [(String, Int, String)] = [
            ("5А", 5, "А"), ("10Б", 10, "Б"), ("11 В", 11, "В"), (" 7-Г ", 7, "Г"), ("1-1", 1, "1"), ("11-1", 11, "1"), ("3ab", 3, "ab"),
            ("1 01", 1, "01"), ("9МАТ", 9, "МАТ"),
        ]
        for (name, grade, letter) in cases {
            let read = try Validation.className(name)
            #expect(read.grade == grade && read.letter == letter, "\(name)")
        }
    }

    @Test func ambiguousOrMalformedNamesAreRefused() {
        for name in ["", "5", "А5", "0А", "12А", "111", "11", "5  А", "5 -А", "5АБВГД", "5_", "٥А", "5А\u{202E}", "10 - А"] {
            #expect(throws: ZvonokError.self, "\(name)") { try Validation.className(name) }
        }
    }
}
