/// The contract's rules for what clients send: region codes, names, grades, class letters, school years, external ids.
/// Each check returns the cleaned value or throws `invalid_argument` naming the field.
///
/// Lengths are bounded in characters (what a person sees) and in UTF-8 bytes (what is stored and indexed): one letter
/// followed by thousands of combining marks is one character but kilobytes, and an index entry over PostgreSQL's
/// size limit would fail the statement — for a message, the whole group commit it shares.
public enum Validation {
    /// The most UTF-8 bytes of a name (region, municipality, school, person).
    public static let nameBytes = 512
    /// The most UTF-8 bytes of an `externalId`.
    public static let externalIDBytes = 256
    /// The most UTF-8 bytes of a message's client id (`cid`).
    public static let clientIDBytes = 128
    /// The most UTF-8 bytes of a class letter.
    public static let classLetterBytes = 32

    /// "01" … "99".
    public static func regionCode(_ code: String) throws(ZvonokError) -> String {
        guard code.count == 2, code.allSatisfy({ $0.isASCII && $0.isNumber }), code != "00" else {
            throw .invalidArgument("region code must be two digits, 01 to 99")
        }
        return code
    }

    /// 1–200 characters (at most 512 UTF-8 bytes) of printable Unicode, surrounding spaces trimmed.
    public static func name(_ name: String, field: String = "name") throws(ZvonokError) -> String {
        let trimmed = trimmed(name)
        guard (1...200).contains(trimmed.count), trimmed.utf8.count <= nameBytes else {
            throw .invalidArgument("\(field) must be 1 to 200 characters and at most \(nameBytes) bytes")
        }
        guard isPrintable(trimmed) else { throw .invalidArgument("\(field) must hold printable characters only") }
        return trimmed
    }

    public static func grade(_ grade: Int) throws(ZvonokError) -> Int {
        guard (1...11).contains(grade) else { throw .invalidArgument("grade must be 1 to 11") }
        return grade
    }

    /// A class letter such as "А" or "Б": 1–4 letters or digits (at most 32 UTF-8 bytes).
    public static func classLetter(_ letter: String) throws(ZvonokError) -> String {
        let trimmed = trimmed(letter)
        guard (1...4).contains(trimmed.count), trimmed.utf8.count <= classLetterBytes, trimmed.allSatisfy({ $0.isLetter || $0.isNumber }) else {
            throw .invalidArgument("letter must be 1 to 4 letters or digits, at most \(classLetterBytes) bytes")
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

    /// An id from the regional information system: 1–100 printable characters (at most 256 UTF-8 bytes), or absent.
    public static func externalID(_ id: String?) throws(ZvonokError) -> String? {
        guard let id else { return nil }
        let trimmed = trimmed(id)
        guard (1...100).contains(trimmed.count), trimmed.utf8.count <= externalIDBytes, isPrintable(trimmed) else {
            throw .invalidArgument("externalId must be 1 to 100 printable characters and at most \(externalIDBytes) bytes")
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
