import Crypto
import Foundation

/// RFC 8291 message encryption for Web Push with the `aes128gcm` content coding of RFC 8188: ECDH on P-256 with the
/// subscription's key, HKDF-SHA-256 keyed by its auth secret, AES-128-GCM, one record. Only swift-crypto's primitives,
/// composed as the RFC says.
struct WebPushEncryption {
    /// The subscription's keys as the browser gave them: its public key (65 bytes, uncompressed) and auth secret.
    let subscriberKey: P256.KeyAgreement.PublicKey
    let authSecret: Data

    /// Record size announced in the header: the whole message fits one record.
    static let recordSize: UInt32 = 4096
    /// The most plaintext one message may carry (push services take 4,096 bytes of body; the header takes 86 and the
    /// tag and delimiter 17).
    static let maximumPlaintext = 3993

    init(p256dh: Data, auth: Data) throws {
        subscriberKey = try P256.KeyAgreement.PublicKey(x963Representation: p256dh)
        authSecret = auth
    }

    /// The message body: the `aes128gcm` header (salt, record size, the server's ephemeral public key) and the one
    /// record. A fresh key pair and salt are made for each message unless given (the RFC's worked example gives both).
    func encrypt(
        _ plaintext: Data, ephemeral: P256.KeyAgreement.PrivateKey = P256.KeyAgreement.PrivateKey(), salt: Data = Self.randomSalt()
    ) throws -> Data {
        let serverPublic = ephemeral.publicKey.x963Representation
        let shared = try ephemeral.sharedSecretFromKeyAgreement(with: subscriberKey)
        let keyInfo = Data("WebPush: info".utf8) + [0] + subscriberKey.x963Representation + serverPublic
        let ikm = shared.hkdfDerivedSymmetricKey(using: SHA256.self, salt: authSecret, sharedInfo: keyInfo, outputByteCount: 32)
        let contentKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: ikm, salt: salt, info: Data("Content-Encoding: aes128gcm".utf8) + [0], outputByteCount: 16)
        let nonce = HKDF<SHA256>.deriveKey(inputKeyMaterial: ikm, salt: salt, info: Data("Content-Encoding: nonce".utf8) + [0], outputByteCount: 12)
        // The last (and only) record ends with the delimiter 2 and no padding.
        let sealed = try AES.GCM.seal(plaintext + [2], using: contentKey, nonce: AES.GCM.Nonce(data: nonce.withUnsafeBytes { Data($0) }))
        var header = salt
        withUnsafeBytes(of: Self.recordSize.bigEndian) { header.append(contentsOf: $0) }
        header.append(UInt8(serverPublic.count))
        header.append(serverPublic)
        return header + sealed.ciphertext + sealed.tag
    }

    static func randomSalt() -> Data {
        Data(SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) })
    }
}
