/// Invite codes: 20 characters of Crockford's base32 (100 random bits), shown in groups of four.
///
/// The alphabet has no I, L, O or U, so a code read aloud or copied by hand survives: `normalize` folds case,
/// drops dashes and spaces, and reads O as 0 and I or L as 1.
public enum InviteCode {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    static let length = 20

    /// A new random code, such as `7KQ2-M9XD-4WPT-R8C1-H6VN`.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return stride(from: 0, to: length, by: 4).map { String(characters[$0..<$0 + 4]) }.joined(separator: "-")
    }

    /// The canonical form of what a person typed, or nil when it cannot be a code.
    public static func normalize(_ typed: String) -> String? {
        var canonical = ""
        for character in typed.uppercased() where character != "-" && character != " " {
            let folded: Character =
                switch character {
                case "O": "0"
                case "I", "L": "1"
                default: character
                }
            guard alphabet.contains(folded) else { return nil }
            canonical.append(folded)
        }
        guard canonical.count == length else { return nil }
        return stride(from: 0, to: length, by: 4).map { index in
            let start = canonical.index(canonical.startIndex, offsetBy: index)
            return String(canonical[start..<canonical.index(start, offsetBy: 4)])
        }.joined(separator: "-")
    }
}
