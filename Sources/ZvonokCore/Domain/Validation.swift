/// The contract's rules for what clients send: region codes, names, grades, class letters, school years, external ids.
/// Each check returns the cleaned value or throws `invalid_argument` naming the field.
///
/// Lengths are bounded in UTF-8 bytes (what is stored and indexed) as well as in characters: one letter followed by
/// thousands of combining marks looks like one character but is kilobytes, and an index entry over PostgreSQL's size
/// limit would fail the statement — for a message, the whole group commit it shares. Names and external ids count
/// characters as Unicode code points, as the API document's `maxLength` does, before trimming, so that the document
/// states exactly what is accepted; their byte bounds are four bytes a code point.
public enum Validation {
    /// The most characters (code points) of a name (region, municipality, school, person): room for a school's full
    /// official name.
    public static let nameCharacters = 200
    /// The most UTF-8 bytes of a name.
    public static let nameBytes = 4 * nameCharacters
    /// The most characters (code points) of an `externalId`.
    public static let externalIDCharacters = 100
    /// The most UTF-8 bytes of an `externalId`.
    public static let externalIDBytes = 4 * externalIDCharacters
    /// The most UTF-8 bytes of a message's client id (`cid`).
    public static let clientIDBytes = 128

    /// "01" … "99".
    public static func regionCode(_ code: String) throws(ZvonokError) -> String {
        guard code.count == 2, code.allSatisfy({ $0.isASCII && $0.isNumber }), code != "00" else {
            throw .invalidArgument("region code must be two digits, 01 to 99")
        }
        return code
    }

    /// Up to 200 characters (code points, so at most 800 UTF-8 bytes) of printable text, not only spaces; surrounding
    /// spaces are trimmed.
    public static func name(_ name: String, field: String = "name") throws(ZvonokError) -> String {
        let trimmed = trimmed(name)
        guard !trimmed.isEmpty, name.unicodeScalars.count <= nameCharacters, name.utf8.count <= nameBytes else {
            throw .invalidArgument("\(field) must be 1 to \(nameCharacters) characters, not only spaces")
        }
        guard isPrintable(name) else { throw .invalidArgument("\(field) must hold no control, line-separator or text-direction characters") }
        return trimmed
    }

    public static func grade(_ grade: Int) throws(ZvonokError) -> Int {
        guard (1...11).contains(grade) else { throw .invalidArgument("grade must be 1 to 11") }
        return grade
    }

    /// A class letter such as "А" or "Б": 1–4 letters or digits, counted as code points of the Unicode letter and
    /// number categories (what the API document's pattern matches), surrounding spaces trimmed.
    public static func classLetter(_ letter: String) throws(ZvonokError) -> String {
        let trimmed = trimmed(letter)
        guard (1...4).contains(trimmed.unicodeScalars.count), trimmed.unicodeScalars.allSatisfy(isLetterOrDigit) else {
            throw .invalidArgument("letter must be 1 to 4 letters or digits")
        }
        return trimmed
    }

    /// A class's name as people say it, "5А" or "10 Б" or "11-В": the grade 1–11, then the letter (1–4 letters or
    /// digits, as `classLetter` takes them), either right after the grade, starting with a non-digit, or after one space
    /// or hyphen ("1-1"); surrounding spaces are trimmed. So the grade is never ambiguous: "12А" and "111" are refused.
    public static func className(_ name: String) throws(ZvonokError) -> (grade: Int, letter: String) {
        let scalars = Array(trimmed(name).unicodeScalars)
        for digits in [2, 1] where scalars.count > digits {
            let prefix = scalars[..<digits]
            guard prefix.allSatisfy(\.isASCII), let grade = Int(String(String.UnicodeScalarView(prefix))), (1...11).contains(grade),
                digits == 1 || grade >= 10
            else { continue }
            var letter = scalars[digits...]
            if let first = letter.first, first == " " || first == "-" {
                letter = letter.dropFirst()
            } else if letter.first?.properties.generalCategory == .decimalNumber {
                continue
            }
            if (1...4).contains(letter.count), letter.allSatisfy(isLetterOrDigit) {
                return (grade, String(String.UnicodeScalarView(letter)))
            }
        }
        throw .invalidArgument("name must be a grade 1 to 11 and a letter, such as 5А, 10 Б or 11-В")
    }

    private static func isLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .decimalNumber, .letterNumber, .otherNumber:
            true
        default: false
        }
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

    /// An id from the regional information system (or the official registry's, named by `field`): up to 100 printable characters (code points, at most 400 UTF-8
    /// bytes), not only spaces, surrounding spaces trimmed; or absent.
    public static func externalID(_ id: String?, field: String = "externalId") throws(ZvonokError) -> String? {
        guard let id else { return nil }
        let trimmed = trimmed(id)
        guard !trimmed.isEmpty, id.unicodeScalars.count <= externalIDCharacters, id.utf8.count <= externalIDBytes, isPrintable(id) else {
            throw .invalidArgument("\(field) must be 1 to \(externalIDCharacters) printable characters, not only spaces")
        }
        return trimmed
    }

    /// A message's client id (`cid`), which makes a resend idempotent: 1–100 characters, at most 128 UTF-8 bytes.
    public static func clientID(_ cid: String) throws(ZvonokError) -> String {
        guard (1...100).contains(cid.count), cid.utf8.count <= clientIDBytes else {
            throw .invalidArgument("cid must be 1 to 100 characters and at most \(clientIDBytes) bytes")
        }
        return try storable(cid, field: "cid")
    }

    /// An e-mail address a provider's verified address is matched against: lower-cased, at most 320 characters (code
    /// points), one `@` with something on each side, no spaces or ASCII control characters (the API document's
    /// pattern); an empty one is nil (none).
    public static func email(_ email: String) throws(ZvonokError) -> String? {
        guard !email.isEmpty else { return nil }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.unicodeScalars.count <= 320, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
            email.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F })
        else { throw .invalidArgument("email must be an address such as name@example.ru, at most 320 characters") }
        return email.lowercased()
    }

    /// A report's reason: up to 1,000 characters (code points, as the API document's `maxLength` counts them, so
    /// at most 4,000 bytes of UTF-8), not only spaces, with no NUL; surrounding spaces trimmed.
    public static func reportReason(_ reason: String) throws(ZvonokError) -> String {
        let trimmed = trimmed(reason)
        guard !trimmed.isEmpty, reason.unicodeScalars.count <= 1000 else {
            throw .invalidArgument("reason must be 1 to 1,000 characters, not only spaces")
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

    /// No control characters (C0, DEL, C1), no line or paragraph separators, and none of the characters that
    /// override the text's direction (U+202A–U+202E, U+2066–U+2069: a name must not display as another); the API
    /// document's pattern for names says the same. Everything else passes, emoji joined with U+200D and characters
    /// newer than this server's Unicode tables among them.
    static func isPrintable(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            switch scalar.value {
            case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: false
            default: true
            }
        }
    }
}
