import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import JWTKit
import NIOCore
import Testing
import ZvonokCore
import ZvonokServer

/// A small OpenID Connect provider for the sign-in tests, served over real HTTP on 127.0.0.1: discovery, JWKS,
/// authorization (the person "signs in" by the `test_user` parameter the test adds), the token endpoint with client
/// authentication and PKCE, key rotation, and back-channel logout tokens. It signs with ES256 through jwt-kit; the
/// faults a test asks for (`Fault`) change the next ID token it issues.
actor TestProvider {
    /// Someone with an account at the provider.
    struct User: Sendable {
        let subject: String
        var email: String? = nil
        var emailVerified: Bool = false
    }

    /// What is wrong with the next ID token.
    enum Fault: Sendable {
        case wrongNonce, expired, foreignKey, wrongAudience
    }

    static let clientID = "zvonok"
    static let clientSecret = "test-secret-ξ:&"
    static let redirectURI = "http://127.0.0.1/sign-in/callback"

    private(set) var issuer = ""
    private var users: [String: User] = [:]
    private var grants: [String: Grant] = [:]
    private var signingKeys: [(kid: String, key: ES256PrivateKey)] = []
    private var nextFault: Fault?
    /// How many times the JWKS was fetched.
    private(set) var keyFetches = 0
    /// Every ID token issued, for tests that look for them where they must not be.
    private(set) var issuedIDTokens: [String] = []

    private struct Grant {
        let user: User
        let redirectURI: String
        let challenge: String
        let nonce: String
    }

    init() {
        signingKeys = [("key-1", ES256PrivateKey())]
    }

    /// Zvonok's settings for this provider.
    var configuration: OIDCConfiguration {
        var configuration = OIDCConfiguration(
            issuer: issuer, clientID: Self.clientID, clientSecret: Self.clientSecret, redirectURIs: [Self.redirectURI])
        configuration.keyRefetchInterval = .zero
        return configuration
    }

    func add(_ user: User) { users[user.subject] = user }
    func failNext(_ fault: Fault) { nextFault = fault }
    /// A new signing key; the JWKS lists only it from now on.
    func rotate() { signingKeys = [("key-\(signingKeys.count + 1)-\(UUID().uuidString.prefix(8))", ES256PrivateKey())] }
    fileprivate func started(port: Int) { issuer = "http://127.0.0.1:\(port)" }

    // MARK: Endpoints

    fileprivate func discovery() throws -> Data {
        try json([
            "issuer": issuer, "authorization_endpoint": "\(issuer)/authorize", "token_endpoint": "\(issuer)/token",
            "jwks_uri": "\(issuer)/jwks", "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"], "code_challenge_methods_supported": ["S256"],
            "backchannel_logout_supported": true, "backchannel_logout_session_supported": true,
        ])
    }

    fileprivate func jwks() throws -> Data {
        keyFetches += 1
        let keys = signingKeys.map { kid, key -> [String: String] in
            let (x, y) = key.parameters!
            return ["kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid, "x": x, "y": y]
        }
        return try json(["keys": keys])
    }

    /// The authorization endpoint: answers the redirect with a one-time code, as after a successful login.
    fileprivate func authorize(_ query: [String: String]) throws -> String {
        guard query["response_type"] == "code", query["client_id"] == Self.clientID, query["code_challenge_method"] == "S256",
            let redirectURI = query["redirect_uri"], let state = query["state"], let nonce = query["nonce"],
            let challenge = query["code_challenge"], query["scope"]?.split(separator: " ").contains("openid") == true,
            let user = query["test_user"].flatMap({ users[$0] })
        else { throw HTTPError(.badRequest, message: "bad authorization request") }
        let code = Secret.urlSafe()
        grants[code] = Grant(user: user, redirectURI: redirectURI, challenge: challenge, nonce: nonce)
        return "\(redirectURI)?code=\(code)&state=\(state)"
    }

    /// The token endpoint: client authentication, the code once, the redirect URI and the PKCE verifier.
    fileprivate func token(_ form: [String: String], authorization: String?) async throws -> Data {
        let credentials = FormEncoding.encode(Self.clientID) + ":" + FormEncoding.encode(Self.clientSecret)
        guard authorization == "Basic " + Data(credentials.utf8).base64EncodedString() else {
            throw OAuthRefusal(status: .unauthorized, error: "invalid_client")
        }
        guard form["grant_type"] == "authorization_code", let code = form["code"], let grant = grants.removeValue(forKey: code),
            form["redirect_uri"] == grant.redirectURI, let verifier = form["code_verifier"],
            Secret.base64URL(SHA256.hash(data: Data(verifier.utf8))) == grant.challenge
        else { throw OAuthRefusal(status: .badRequest, error: "invalid_grant") }
        let fault = nextFault
        nextFault = nil
        let now = Date()
        let claims = Claims(
            iss: issuer, sub: grant.user.subject, aud: fault == .wrongAudience ? "someone-else" : Self.clientID,
            exp: Int(now.timeIntervalSince1970) + (fault == .expired ? -600 : 300),
            iat: Int(now.timeIntervalSince1970) - (fault == .expired ? 900 : 0),
            nonce: fault == .wrongNonce ? "not-the-nonce" : grant.nonce, sid: "sid-\(grant.user.subject)",
            email: grant.user.email, emailVerified: grant.user.emailVerified)
        let key = fault == .foreignKey ? (signingKeys[0].kid, ES256PrivateKey()) : signingKeys[0]
        let idToken = try await Self.sign(claims, with: key)
        issuedIDTokens.append(idToken)
        return try json(["access_token": Secret.urlSafe(), "token_type": "Bearer", "expires_in": 300, "id_token": idToken])
    }

    /// A back-channel logout token for the user's subject (and session, when `sid` is given).
    func logoutToken(subject: String?, sid: String?) async throws -> String {
        let claims = LogoutClaims(
            iss: issuer, aud: Self.clientID, iat: Int(Date().timeIntervalSince1970), exp: Int(Date().timeIntervalSince1970) + 120,
            jti: UUID().uuidString, sub: subject, sid: sid, events: [LogoutClaims.event: [:]])
        return try await Self.sign(claims, with: signingKeys[0])
    }

    private static func sign(_ payload: some JWTPayload, with key: (kid: String, key: ES256PrivateKey)) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key.key, kid: JWKIdentifier(string: key.kid))
        return try await keys.sign(payload, kid: JWKIdentifier(string: key.kid))
    }

    /// An OAuth error answer (RFC 6749 §5.2).
    struct OAuthRefusal: Error {
        let status: HTTPResponse.Status
        let error: String
    }

    private struct Claims: JWTPayload {
        let iss: String, sub: String, aud: String, exp: Int, iat: Int, nonce: String, sid: String
        let email: String?
        let emailVerified: Bool
        enum CodingKeys: String, CodingKey {
            case iss, sub, aud, exp, iat, nonce, sid, email
            case emailVerified = "email_verified"
        }
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    private struct LogoutClaims: JWTPayload {
        static let event = "http://schemas.openid.net/event/backchannel-logout"
        let iss: String, aud: String, iat: Int, exp: Int, jti: String
        let sub: String?
        let sid: String?
        let events: [String: [String: String]]
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }
}

/// Runs `body` with a provider listening on 127.0.0.1.
func withTestProvider<Result: Sendable>(_ body: @Sendable @escaping (TestProvider) async throws -> Result) async throws -> Result {
    let provider = TestProvider()
    let router = Router()
    router.get(".well-known/openid-configuration") { _, _ in response(try await provider.discovery()) }
    router.get("jwks") { _, _ in response(try await provider.jwks()) }
    router.get("authorize") { request, _ -> Response in
        let query = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { first, _ in first })
        return Response(status: .found, headers: [.location: try await provider.authorize(query)])
    }
    router.post("token") { request, _ -> Response in
        let form = FormEncoding.decode(String(buffer: try await request.body.collect(upTo: 1 << 16)))
        do {
            return response(try await provider.token(form, authorization: request.headers[.authorization]))
        } catch let refusal as TestProvider.OAuthRefusal {
            return response(try json(["error": refusal.error]), status: refusal.status)
        }
    }
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: testLogger)
    return try await app.test(.live) { client in
        await provider.started(port: try #require(client.port))
        return try await body(provider)
    }
}

private func json(_ object: [String: Any]) throws -> Data {
    try JSONSerialization.data(withJSONObject: object)
}

private func response(_ json: Data, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
}
