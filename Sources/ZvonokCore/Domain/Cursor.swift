/// Page cursors: the key of the last item of a page (a row id, a region code or a seq — digits in every list), which
/// clients pass back as they got it. Any run of 1 to 18 digits is a cursor, so that the API document can say exactly
/// which cursors the server takes (`^[0-9]{0,18}$`; empty is the first page) and every one of them names a place in
/// the list: the items after it.
public enum Cursor {
    /// The longest cursor: 18 digits always fit a row id.
    static let maximumLength = 18

    public static func encode(_ key: String) -> String {
        key
    }

    /// The key inside a cursor, or nil when the string is not 1 to 18 ASCII digits.
    public static func decode(_ cursor: String) -> String? {
        guard (1...maximumLength).contains(cursor.utf8.count), cursor.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return cursor
    }
}
