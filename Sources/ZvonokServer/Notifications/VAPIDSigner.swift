import Crypto
import Foundation
import ZvonokCore

/// RFC 8292 voluntary application server identification: a JWT signed with ES256 by the server's P-256 key, for the
/// push service's origin, sent as `Authorization: vapid t=<jwt>, k=<public key>`.
struct VAPIDSigner: Sendable {
    let key: P256.Signing.PrivateKey
    /// Who runs this server (`mailto:` or `https:`), the JWT's `sub`, so that a push service can reach the operator.
    let contact: String

    /// The public key as browsers take it in `applicationServerKey`: uncompressed, base64url without padding.
    var publicKey: String { Secret.base64URL(key.publicKey.x963Representation) }

    /// The `Authorization` header's value for a request to `endpoint`, valid twelve hours from `now` (RFC 8292 allows
    /// at most 24).
    func authorization(for endpoint: URL, now: Date) throws -> String {
        guard let scheme = endpoint.scheme, let host = endpoint.host else { throw URLError(.badURL) }
        let audience = endpoint.port.map { "\(scheme)://\(host):\($0)" } ?? "\(scheme)://\(host)"
        let token = try ES256Token.sign(
            header: ["typ": "JWT", "alg": "ES256"], claims: ["aud": audience, "exp": Int(now.timeIntervalSince1970) + 12 * 3600, "sub": contact],
            with: key)
        return "vapid t=\(token), k=\(publicKey)"
    }
}

/// Reading base64url (RFC 4648 §5), as browsers give Web Push keys; `Secret.base64URL` writes it.
enum Base64URL {
    /// Decodes either alphabet, with or without padding; nil when it is not base64.
    static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
