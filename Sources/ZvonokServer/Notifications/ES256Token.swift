import Crypto
import Foundation
import ZvonokCore

/// A compact JWS signed with ES256 (RFC 7515, RFC 7518 §3.4: the signature is r and s, 32 bytes each), as VAPID and
/// APNs take it: swift-crypto's P-256 ECDSA over `header.claims`, both base64url JSON.
enum ES256Token {
    static func sign(header: [String: String], claims: [String: Any], with key: P256.Signing.PrivateKey) throws -> String {
        let encodedHeader = Secret.base64URL(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        let encodedClaims = Secret.base64URL(try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys]))
        let signingInput = encodedHeader + "." + encodedClaims
        return signingInput + "." + Secret.base64URL(try key.signature(for: Data(signingInput.utf8)).rawRepresentation)
    }
}
