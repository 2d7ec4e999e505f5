/// The opaque string ids the API shows for database rows: a letter naming the kind, then the number.
///
/// The letter lets the server tell at once that an id names the wrong kind of thing (a class id where a school is
/// expected answers 404 without a query), and keeps ids from different tables from being mistaken for each other.
public enum PublicID {
    /// Kinds of things with server-chosen ids, with their letter.
    public enum Kind: Character, Sendable {
        case municipality = "m"
        case school = "s"
        case `class` = "k"
        case person = "p"
        case chat = "c"
        case report = "r"
        case file = "f"
        /// A browser's Web Push subscription.
        case pushSubscription = "w"
        /// A phone registered for notifications.
        case device = "d"
    }

    public static func encode(_ kind: Kind, _ id: Int64) -> String {
        "\(kind.rawValue)\(id)"
    }

    /// The number behind an id of the expected kind, or nil when the string is not one.
    public static func decode(_ kind: Kind, _ string: String) -> Int64? {
        guard string.first == kind.rawValue, string.count <= 20 else { return nil }
        let digits = string.dropFirst()
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let id = Int64(digits), id > 0 else { return nil }
        return id
    }
}
