/// Opaque page cursors: the key of the last item of a page, base64url-encoded so clients treat it as a token.
public enum Cursor {
    public static func encode(_ key: String) -> String {
        Secret.base64URL(Array(key.utf8))
    }

    /// The key inside a cursor, or nil when the string is not a cursor this server made.
    public static func decode(_ cursor: String) -> String? {
        var bytes: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in cursor {
            guard let value = Secret.base64URLAlphabet.firstIndex(of: character) else { return nil }
            buffer = (buffer << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
