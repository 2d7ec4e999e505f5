/// The contract's rules for what clients send: region codes, names, grades, class letters, school years, external ids.
/// Each check returns the cleaned value or throws `invalid_argument` naming the field.
public enum Validation {
    /// "01" … "99".
    public static func regionCode(_ code: String) throws(ZvonokError) -> String {
        guard code.count == 2, code.allSatisfy({ $0.isASCII && $0.isNumber }), code != "00" else {
            throw .invalidArgument("region code must be two digits, 01 to 99")
        }
        return code
    }

    /// 1–200 characters of printable Unicode, surrounding spaces trimmed.
    public static func name(_ name: String, field: String = "name") throws(ZvonokError) -> String {
        let trimmed = trimmed(name)
        guard (1...200).contains(trimmed.count) else { throw .invalidArgument("\(field) must be 1 to 200 characters") }
        guard isPrintable(trimmed) else { throw .invalidArgument("\(field) must hold printable characters only") }
        return trimmed
    }

    public static func grade(_ grade: Int) throws(ZvonokError) -> Int {
        guard (1...11).contains(grade) else { throw .invalidArgument("grade must be 1 to 11") }
        return grade
    }

    /// A class letter such as "А" or "Б": 1–4 letters or digits.
    public static func classLetter(_ letter: String) throws(ZvonokError) -> String {
        let trimmed = trimmed(letter)
        guard (1...4).contains(trimmed.count), trimmed.allSatisfy({ $0.isLetter || $0.isNumber }) else {
            throw .invalidArgument("letter must be 1 to 4 letters or digits")
        }
        return trimmed
    }

    /// A school year "YYYY/YYYY+1", such as "2026/2027".
    public static func schoolYear(_ year: String) throws(ZvonokError) -> String {
        let parts = year.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 4 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let first = Int(parts[0]), let second = Int(parts[1]), second == first + 1, (2000...2100).contains(first)
        else {
            throw .invalidArgument("year must be YYYY/YYYY+1, such as 2026/2027")
        }
        return year
    }

    /// An id from the regional information system: 1–100 printable characters, or absent.
    public static func externalID(_ id: String?) throws(ZvonokError) -> String? {
        guard let id else { return nil }
        let trimmed = trimmed(id)
        guard (1...100).contains(trimmed.count), isPrintable(trimmed) else {
            throw .invalidArgument("externalId must be 1 to 100 printable characters")
        }
        return trimmed
    }

    /// A report's reason: 1–1,000 characters and at most 4 KiB of UTF-8 once trimmed, with no NUL.
    public static func reportReason(_ reason: String) throws(ZvonokError) -> String {
        let trimmed = trimmed(reason)
        guard (1...1000).contains(trimmed.count), trimmed.utf8.count <= 4096 else {
            throw .invalidArgument("reason must be 1 to 1,000 characters and at most 4 KiB")
        }
        return try storable(trimmed, field: "reason")
    }

    /// Text PostgreSQL can store: anything but the NUL character, which a `text` value cannot hold (a statement
    /// carrying one fails, and with it a whole group commit).
    public static func storable(_ text: String, field: String) throws(ZvonokError) -> String {
        guard !text.unicodeScalars.contains("\0") else { throw .invalidArgument("\(field) may not contain the NUL character") }
        return text
    }

    static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }

    /// No control, format, surrogate, private-use or unassigned code points.
    static func isPrintable(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            switch scalar.properties.generalCategory {
            case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator: false
            default: true
            }
        }
    }
}
