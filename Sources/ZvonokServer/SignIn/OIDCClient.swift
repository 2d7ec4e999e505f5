import AsyncHTTPClient
import Crypto
import Foundation
import JWTKit
import Logging
import NIOCore
import NIOHTTP1
import ZvonokCore

/// Zvonok as an OpenID Connect relying party: the provider's discovery document and signing keys (fetched, cached,
/// fetched again when a token names a key not yet known — a rotation), the authorization request with PKCE, the
/// code exchange, and the validation of ID and logout tokens.
///
/// Every failure is a `ZvonokError` with a plain message: the provider unreachable or answering garbage is
/// `unavailable` (503), a token that fails validation `unauthenticated` (401). No token is ever logged.
actor OIDCClient {
    let configuration: OIDCConfiguration
    private let http: HTTPClient
    private let logger: Logger
    private var discovery: (document: Discovery, fetchedAt: ContinuousClock.Instant)?
    private var keys: (collection: JWTKeyCollection, kids: Set<String>, fetchedAt: ContinuousClock.Instant)?

    /// The asymmetric algorithms an ID token may be signed with: never `none`, never a shared-secret HMAC.
    static let algorithms: Set<String> = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
    /// The largest answer read from the provider.
    static let maximumAnswer = 1 << 20

    init(configuration: OIDCConfiguration, http: HTTPClient = .shared, logger: Logger) {
        self.configuration = configuration
        self.http = http
        self.logger = logger
    }

    /// The part of the discovery document Zvonok uses.
    struct Discovery: Decodable {
        let issuer: String
        let authorizationEndpoint: String
        let tokenEndpoint: String
        let jwksURI: String

        enum CodingKeys: String, CodingKey {
            case issuer
            case authorizationEndpoint = "authorization_endpoint"
            case tokenEndpoint = "token_endpoint"
            case jwksURI = "jwks_uri"
        }
    }

    // MARK: The authorization-code flow

    /// Where to send the browser: the provider's authorization endpoint with the client, the scopes, the redirect
    /// URI, `state`, `nonce` and the PKCE challenge (S256) of `codeVerifier`.
    func authorizationURL(state: String, nonce: String, codeVerifier: String, redirectURI: String) async throws -> String {
        let endpoint = try await document().authorizationEndpoint
        let challenge = Secret.base64URL(SHA256.hash(data: Data(codeVerifier.utf8)))
        let query = FormEncoding.encode([
            ("response_type", "code"), ("client_id", configuration.clientID), ("redirect_uri", redirectURI),
            ("scope", configuration.scopeParameter), ("state", state), ("nonce", nonce),
            ("code_challenge", challenge), ("code_challenge_method", "S256"),
        ])
        return endpoint + (endpoint.contains("?") ? "&" : "?") + query
    }

    /// Exchanges the provider's one-time code for tokens and returns the validated ID token's claims.
    func exchange(code: String, codeVerifier: String, redirectURI: String, nonce: String) async throws -> IDTokenClaims {
        var request = HTTPClientRequest(url: try await document().tokenEndpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        if let secret = configuration.clientSecret {
            // RFC 6749 §2.3.1: each part form-encoded before the Basic encoding.
            let credentials = FormEncoding.encode(configuration.clientID) + ":" + FormEncoding.encode(secret)
            request.headers.add(name: "Authorization", value: "Basic " + Data(credentials.utf8).base64EncodedString())
        }
        request.body = .bytes(
            ByteBuffer(
                string: FormEncoding.encode([
                    ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("code_verifier", codeVerifier),
                    ("client_id", configuration.clientID),
                ])))
        let (status, body) = try await send(request)
        guard status == .ok else {
            let refusal = try? JSONDecoder().decode(ProviderRefusal.self, from: body)
            if (400..<500).contains(status.code), let refusal {
                throw ZvonokError.invalidArgument("the provider refused the sign-in (\(refusal.error)): start again")
            }
            throw ZvonokError.unavailable("the sign-in provider answered \(status.code); try again later")
        }
        guard let answer = try? JSONDecoder().decode(TokenAnswer.self, from: body) else {
            throw ZvonokError.unavailable("the sign-in provider's answer holds no ID token")
        }
        let claims = try await verify(answer.idToken, as: IDTokenClaims.self)
        guard claims.nonce == nonce else { throw ZvonokError.unauthenticated("the ID token's nonce is not this sign-in's") }
        guard !claims.sub.value.isEmpty else { throw ZvonokError.unauthenticated("the ID token names no subject") }
        try checkTimes(issuedAt: claims.iat.value, expiresAt: claims.exp.value)
        return claims
    }

    /// The token endpoint's answer, of which only the ID token is used.
    private struct TokenAnswer: Decodable {
        let idToken: String
        enum CodingKeys: String, CodingKey { case idToken = "id_token" }
    }

    /// An OAuth error answer (RFC 6749 §5.2).
    private struct ProviderRefusal: Decodable {
        let error: String
    }

    /// A back-channel logout token's claims, validated: signature, issuer, audience, times, the logout event, a `sub`
    /// or `sid`, and no nonce.
    func verifyLogoutToken(_ token: String) async throws -> LogoutTokenClaims {
        let claims = try await verify(token, as: LogoutTokenClaims.self)
        guard claims.events[LogoutTokenClaims.logoutEvent] != nil, claims.nonce == nil, claims.sub != nil || claims.sid != nil else {
            throw ZvonokError.invalidArgument("not a back-channel logout token")
        }
        try checkTimes(issuedAt: claims.iat.value, expiresAt: claims.exp?.value)
        return claims
    }

    // MARK: Validation

    /// A token's claims once its signature (by a key of the provider's, with an asymmetric algorithm), issuer and
    /// audience hold.
    private func verify<Claims: JWTIdentityToken & IssuedByProvider>(_ token: String, as: Claims.Type) async throws -> Claims {
        let header: JWTHeader
        do {
            header = try DefaultJWTParser().parse([UInt8](token.utf8), as: Claims.self).header
        } catch {
            throw ZvonokError.unauthenticated("the provider's token is malformed")
        }
        guard let algorithm = header.alg, Self.algorithms.contains(algorithm) else {
            throw ZvonokError.unauthenticated("the provider's token is not signed with an allowed algorithm")
        }
        let collection = try await signingKeys(for: header.kid)
        let claims: Claims
        do {
            claims = try await collection.verify(token, as: Claims.self, expectedAudience: configuration.clientID)
        } catch let error as JWTError {
            throw ZvonokError.unauthenticated("the provider's token failed validation (\(error.errorType))")
        } catch {
            throw ZvonokError.unauthenticated("the provider's token failed validation")
        }
        guard claims.issuer == configuration.issuer else { throw ZvonokError.unauthenticated("the token's issuer is not the provider") }
        return claims
    }

    /// `iat` no later than now and no earlier than a sign-in's life ago, `exp` not passed — each within the skew.
    private func checkTimes(issuedAt: Date, expiresAt: Date?) throws {
        let now = Date()
        let skew = TimeInterval(configuration.clockSkew.components.seconds)
        if let expiresAt, expiresAt.addingTimeInterval(skew) <= now { throw ZvonokError.unauthenticated("the provider's token has expired") }
        let oldest = now.addingTimeInterval(-TimeInterval(configuration.signInLifetime.components.seconds) - skew)
        guard issuedAt <= now.addingTimeInterval(skew), issuedAt >= oldest else {
            throw ZvonokError.unauthenticated("the provider's token was not issued now")
        }
    }

    /// The provider's keys, holding `kid`: the cached set while it is fresh and knows the key; fetched again when it
    /// is stale, or when it lacks the key and was fetched longer ago than the refetch interval.
    private func signingKeys(for kid: String?) async throws -> JWTKeyCollection {
        let now = ContinuousClock.now
        if let keys, now - keys.fetchedAt < configuration.cacheLifetime, Self.knows(keys.kids, kid) { return keys.collection }
        if let keys, now - keys.fetchedAt < configuration.keyRefetchInterval {
            guard Self.knows(keys.kids, kid) else { throw ZvonokError.unauthenticated("the provider's token is signed with an unknown key") }
            return keys.collection
        }
        let fetched = try await fetchKeys()
        keys = (fetched.collection, fetched.kids, ContinuousClock.now)
        guard Self.knows(fetched.kids, kid) else { throw ZvonokError.unauthenticated("the provider's token is signed with an unknown key") }
        return fetched.collection
    }

    /// Whether a token naming `kid` can be checked against keys `kids`: a named key must be among them (jwt-kit
    /// would otherwise try its default key); an unnamed one only when the provider has a single key.
    private static func knows(_ kids: Set<String>, _ kid: String?) -> Bool {
        guard let kid else { return kids.count == 1 }
        return kids.contains(kid)
    }

    private func fetchKeys() async throws -> (collection: JWTKeyCollection, kids: Set<String>) {
        let (status, body) = try await send(HTTPClientRequest(url: try await document().jwksURI))
        guard status == .ok, let jwks = try? JSONDecoder().decode(JWKS.self, from: body) else {
            throw ZvonokError.unavailable("the sign-in provider's keys could not be read")
        }
        let collection = JWTKeyCollection()
        var kids: Set<String> = []
        // Keys without an id, or of types jwt-kit cannot use (GOST, say), are skipped rather than failing the set.
        for key in jwks.keys {
            guard let kid = key.keyIdentifier, (try? await collection.add(jwk: key)) != nil else { continue }
            kids.insert(kid.string)
        }
        logger.info("Fetched the sign-in provider's keys", metadata: ["keys": "\(kids.sorted())"])
        return (collection, kids)
    }

    /// The discovery document, fetched once per cache lifetime; its issuer must be the configured one exactly.
    private func document() async throws -> Discovery {
        if let discovery, ContinuousClock.now - discovery.fetchedAt < configuration.cacheLifetime { return discovery.document }
        let url = configuration.issuer.hasSuffix("/") ? configuration.issuer : configuration.issuer + "/"
        let (status, body) = try await send(HTTPClientRequest(url: url + ".well-known/openid-configuration"))
        guard status == .ok, let document = try? JSONDecoder().decode(Discovery.self, from: body) else {
            throw ZvonokError.unavailable("the sign-in provider's discovery document could not be read")
        }
        guard document.issuer == configuration.issuer else {
            logger.error("The provider's discovery document names another issuer", metadata: ["issuer": "\(document.issuer)"])
            throw ZvonokError.unavailable("the sign-in provider is misconfigured")
        }
        discovery = (document, ContinuousClock.now)
        return document
    }

    /// Sends a request to the provider with a 10-second deadline, reading at most a mebibyte.
    private func send(_ request: HTTPClientRequest) async throws -> (HTTPResponseStatus, Data) {
        do {
            let response = try await http.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: Self.maximumAnswer)
            return (response.status, Data(body.readableBytesView))
        } catch let error as ZvonokError {
            throw error
        } catch {
            // The URL only: a request's body can hold the one-time code and the verifier.
            logger.warning("The sign-in provider could not be reached", metadata: ["url": "\(request.url)", "error": "\(type(of: error))"])
            throw ZvonokError.unavailable("the sign-in provider cannot be reached; try again later")
        }
    }
}

/// A token whose issuer Zvonok compares with the configured one.
protocol IssuedByProvider {
    var issuer: String { get }
}

extension IDTokenClaims: IssuedByProvider {
    var issuer: String { iss.value }
}

extension LogoutTokenClaims: IssuedByProvider {
    var issuer: String { iss.value }
}
