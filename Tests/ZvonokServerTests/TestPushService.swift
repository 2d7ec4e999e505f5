import Crypto
import Foundation
import Hummingbird
import HummingbirdHTTP2
import HummingbirdTesting
import NIOCore
import NIOSSL
import Subprocess
import Synchronization
import Testing
import ZvonokCore

/// A push service on 127.0.0.1 for tests: records every request it is sent and answers each path with the statuses
/// set for it (201 once those run out), as RFC 8030's push services and the phone platforms' APIs answer.
final class TestPushService: Sendable {
    /// One request as the service received it.
    struct Received: Sendable {
        let path: String
        let headers: [String: String]
        let body: Data
        var http2 = false
        var at = ContinuousClock.now
    }

    /// What a path answers: statuses queued for it first, then its standing answer, else 201 with no body.
    private struct Answers {
        var queued: [String: [Int]] = [:]
        var standing: [String: (status: Int, body: Data)] = [:]
    }

    private let state = Mutex<(received: [Received], answers: Answers)>(([], Answers()))
    /// Whether it speaks HTTPS (and HTTP/2).
    let secure: Bool

    init(secure: Bool = false) {
        self.secure = secure
    }
    private let portBox = Mutex<Int>(0)

    var port: Int { portBox.withLock { $0 } }
    var received: [Received] { state.withLock { $0.received } }

    /// The URL of `path` on this service.
    func url(_ path: String) -> String { "\(secure ? "https" : "http")://127.0.0.1:\(port)\(path)" }

    /// The statuses to answer `path` with, in order, before its standing answer.
    func answer(_ path: String, with statuses: [Int]) {
        state.withLock { $0.answers.queued[path] = statuses }
    }

    /// What `path` answers once its queued statuses are used up.
    func answer(_ path: String, status: Int, json: [String: Any]) throws {
        let body = try JSONSerialization.data(withJSONObject: json)
        state.withLock { $0.answers.standing[path] = (status, body) }
    }

    /// The requests to `path`, once `count` have arrived, within `timeout` (polled every 20 ms).
    func requests(to path: String, count: Int, within timeout: Duration = .seconds(10)) async throws -> [Received] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let matching = received.filter { $0.path == path }
            if matching.count >= count { return matching }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("\(path) got \(received.filter { $0.path == path }.count) requests, expected \(count)")
    }

    fileprivate func record(_ request: Request, body: ByteBuffer, http2: Bool) -> (status: Int, body: Data) {
        let headers = Dictionary(request.headers.map { ($0.name.canonicalName, $0.value) }, uniquingKeysWith: { first, _ in first })
        let path = request.uri.path
        return state.withLock { state in
            state.received.append(Received(path: path, headers: headers, body: Data(body.readableBytesView), http2: http2))
            if var statuses = state.answers.queued[path], !statuses.isEmpty {
                let status = statuses.removeFirst()
                state.answers.queued[path] = statuses
                return (status, Data())
            }
            return state.answers.standing[path] ?? (201, Data())
        }
    }

    fileprivate func started(port: Int) { portBox.withLock { $0 = port } }
}

/// Runs `body` with a push service listening on 127.0.0.1: plain HTTP/1.1, or with `tls` HTTPS offering HTTP/2 (as
/// Apple's and Google's services do), which records the version each request came in.
func withTestPushService<Result: Sendable>(
    tls: SelfSignedCertificate? = nil, _ body: @Sendable @escaping (TestPushService) async throws -> Result
) async throws -> Result {
    let service = TestPushService(secure: tls != nil)
    let router = Router(context: PushServiceContext.self)
    router.post("**") { request, context -> Response in
        let answer = service.record(request, body: try await request.body.collect(upTo: 1 << 20), http2: context.isHTTP2)
        return Response(
            status: .init(code: answer.status), headers: answer.body.isEmpty ? [:] : [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
    let configuration = ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0))
    let run: @Sendable (any TestClientProtocol) async throws -> Result = { client in
        service.started(port: try #require(client.port))
        return try await body(service)
    }
    guard let tls else { return try await Application(router: router, configuration: configuration, logger: testLogger).test(.live, run) }
    let server = TLSConfiguration.makeServerConfiguration(
        certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificate.path).map { .certificate($0) },
        privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.key.path, format: .pem)))
    let app = Application(router: router, server: try .http2Upgrade(tlsConfiguration: server), configuration: configuration, logger: testLogger)
    return try await app.test(.live, run)
}

/// The push service's request context: whether a request came over HTTP/2 — a stream of a connection, where an
/// HTTP/1.1 request comes on the connection itself.
struct PushServiceContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let isHTTP2: Bool

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        isHTTP2 = source.channel.parent?.parent != nil
    }
}

/// A browser's side of a Web Push subscription: its P-256 key pair and auth secret, and reading what it is sent.
struct TestSubscriber: Sendable {
    let key = P256.KeyAgreement.PrivateKey()
    let auth = Data(SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) })

    /// The `POST /v1/me/push-subscriptions` body for `endpoint`.
    func subscription(_ endpoint: String) -> [String: Any] {
        ["endpoint": endpoint, "keys": ["p256dh": Secret.base64URL(key.publicKey.x963Representation), "auth": Secret.base64URL(auth)]]
    }

    /// What Tests/support/webpush_check.py makes of a request: the payload decrypted by PyPI's http-ece, and the VAPID
    /// JWT's header and claims once its ES256 signature checked out with PyPI's cryptography.
    func open(_ request: TestPushService.Received) async throws -> (payload: [String: Any], header: [String: Any], claims: [String: Any]) {
        let input: [String: String] = [
            "body": request.body.base64EncodedString(), "uaPrivate": key.rawRepresentation.map { String(format: "%02x", $0) }.joined(),
            "auth": auth.base64EncodedString(), "authorization": request.headers["authorization"] ?? "",
        ]
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("support/webpush_check.py").path
        let result = try await Subprocess.run(
            .name("python3"), arguments: [script], input: .data(try JSONSerialization.data(withJSONObject: input)),
            output: .data(limit: 1 << 20), error: .string(limit: 1 << 16))
        guard result.terminationStatus.isSuccess,
            let checked = try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any],
            let plaintext = checked["plaintext"] as? String,
            let payload = try JSONSerialization.jsonObject(with: Data(plaintext.utf8)) as? [String: Any]
        else { throw TestFailure("webpush_check.py refused the request: \(result.standardError)") }
        return (payload, checked["header"] as? [String: Any] ?? [:], checked["claims"] as? [String: Any] ?? [:])
    }
}
