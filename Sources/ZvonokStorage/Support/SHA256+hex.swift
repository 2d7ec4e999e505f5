import Crypto
import Foundation

extension SHA256 {
    /// The SHA-256 of a text's UTF-8 bytes, in lower-case hex: migration checksums, folder names, invite hashes.
    static func hex(of text: String) -> String {
        hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
