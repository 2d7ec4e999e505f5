/// Random secrets handed to people: bearer tokens and invite codes. Only their hashes are ever stored.
public enum Secret {
    /// A bearer token: `zv_` and 43 base64url characters (256 random bits).
    public static func token() -> String {
        "zv_" + urlSafe()
    }

    /// 256 random bits as 43 base64url characters: OpenID Connect's `state`, `nonce` and PKCE verifier.
    public static func urlSafe() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64URL((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// Whether `text` has the shape of a token this server makes (`zv_` and 43 base64url characters): anything else
    /// is refused without asking the database.
    public static func isWellFormedToken(_ text: String) -> Bool {
        let utf8 = text.utf8
        return utf8.count == 46 && text.hasPrefix("zv_")
            && utf8.dropFirst(3).allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "-"), UInt8(ascii: "_"):
                    true
                default: false
                }
            }
    }

    static let base64URLAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    /// Bytes in unpadded base64url (RFC 4648 §5).
    public static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        var output = ""
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                output.append(base64URLAlphabet[Int((buffer >> UInt32(bits)) & 0x3F)])
            }
        }
        if bits > 0 { output.append(base64URLAlphabet[Int((buffer << UInt32(6 - bits)) & 0x3F)]) }
        return output
    }
}
