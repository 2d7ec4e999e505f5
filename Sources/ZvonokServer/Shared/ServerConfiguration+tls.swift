import Foundation
import NIOSSL

extension ServerConfiguration {
    /// The TLS settings from `tlsCertificatePath` and `tlsKeyPath`; nil when neither is set (plain HTTP).
    func tlsConfiguration() throws(TLSSetupError) -> TLSConfiguration? {
        switch (tlsCertificatePath, tlsKeyPath) {
        case (nil, nil):
            return nil
        case (let certificatePath?, let keyPath?):
            let chain: [NIOSSLCertificate]
            let key: NIOSSLPrivateKey
            do {
                chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
            } catch {
                throw TLSSetupError("cannot read a PEM certificate chain from \(certificatePath): \(error)")
            }
            guard !chain.isEmpty else { throw TLSSetupError("\(certificatePath) holds no certificate") }
            do {
                key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
            } catch {
                throw TLSSetupError("cannot read a PEM private key from \(keyPath): \(error)")
            }
            return TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        default:
            throw TLSSetupError("TLS needs both a certificate and a key")
        }
    }
}

/// The server cannot start TLS with what it was given; the message names the file and the cause.
public struct TLSSetupError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
