import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Subprocess
import Synchronization
import Testing
import WSClient
import ZvonokServer

/// With a certificate and key the server speaks HTTPS and WSS itself, to clients that trust that certificate.
@Suite struct TLSTests {
    @Test func httpsAndWSSWorkWithATrustedSelfSignedCertificate() async throws {
        let files = try await SelfSignedCertificate.make()
        defer { try? FileManager.default.removeItem(at: files.folder) }
        let tls = try files.trustingClientConfiguration()
        try await withTestServer(configure: {
            $0.tlsCertificatePath = files.certificate.path
            $0.tlsKeyPath = files.key.path
        }) { api in
            let port = try #require(api.client.port)
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
            do {
                var request = HTTPClientRequest(url: "https://localhost:\(port)/v1/me")
                request.headers.add(name: "Authorization", value: "Bearer \(api.ministryToken)")
                let response = try await http.execute(request, timeout: .seconds(10))
                #expect(response.status == .ok)
                let body = try await response.body.collect(upTo: 1 << 20)
                #expect(jsonField("role", in: String(buffer: body)) == "ministry")
            } catch {
                try await http.shutdown()
                throw error
            }
            try await http.shutdown()

            let first = FirstFrame()
            try await WebSocketClient.connect(
                url: "wss://localhost:\(port)/v1/ws",
                configuration: .init(additionalHeaders: [.authorization: "Bearer \(api.ministryToken)"]),
                tlsConfiguration: tls,
                logger: testLogger
            ) { inbound, _, _ in
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .text(let text) = message { first.text.withLock { $0 = text } }
                    return
                }
            }
            #expect(first.text.withLock { $0 }.flatMap { jsonField("type", in: $0) } == "ready")
        }
    }

    @Test func aClientThatDoesNotTrustTheCertificateIsRefused() async throws {
        let files = try await SelfSignedCertificate.make()
        defer { try? FileManager.default.removeItem(at: files.folder) }
        try await withTestServer(configure: {
            $0.tlsCertificatePath = files.certificate.path
            $0.tlsKeyPath = files.key.path
        }) { api in
            let port = try #require(api.client.port)
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let failed: Bool
            do {
                // The client retries a failed handshake until its deadline, so the deadline is short.
                _ = try await http.execute(HTTPClientRequest(url: "https://localhost:\(port)/health"), timeout: .seconds(3))
                failed = false
            } catch {
                failed = true
            }
            try await http.shutdown()
            #expect(failed, "a client with the system's trust roots must not accept a self-signed certificate")
        }
    }
}

/// A string field of a JSON object.
private func jsonField(_ name: String, in text: String) -> String? {
    ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any])?[name] as? String
}

/// A throwaway self-signed certificate for localhost and 127.0.0.1, made with the openssl command.
struct SelfSignedCertificate {
    let folder: URL
    var certificate: URL { folder.appendingPathComponent("cert.pem") }
    var key: URL { folder.appendingPathComponent("key.pem") }

    /// A TLS client configuration that trusts this certificate alone.
    func trustingClientConfiguration() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificate.path))
        return tls
    }

    static func make() async throws -> SelfSignedCertificate {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("zvonok-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let files = SelfSignedCertificate(folder: folder)
        // swift-subprocess, as everywhere in the tests: Foundation's `waitUntilExit` would block a cooperative thread.
        let openssl = try await Subprocess.run(
            .name("openssl"),
            arguments: [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", files.key.path, "-out", files.certificate.path,
            ],
            output: .discarded, error: .discarded
        )
        guard openssl.terminationStatus.isSuccess else { throw TestFailure("openssl req failed: \(openssl.terminationStatus)") }
        return files
    }
}

/// The first frame a WebSocket handler saw, handed out of its `@Sendable` closure.
private final class FirstFrame: Sendable {
    let text = Mutex<String?>(nil)
}
