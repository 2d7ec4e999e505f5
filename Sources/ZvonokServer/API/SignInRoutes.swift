import Foundation
import Hummingbird
import ZvonokCore
import ZvonokStorage

/// Sign-in with an OpenID Connect provider (issue 22): the button's settings, the start and the end of the
/// authorization-code flow (PKCE, `state`, `nonce`), and the provider's back-channel logout. The flow ends in the same
/// token as invite activation. Without `--oidc-issuer` every route but the settings answers 404.
struct SignInRoutes {
    let api: APIContext
    let client: OIDCClient?
    /// Failed sign-ins per address (a state, an invite code or a person unknown), as for invite activation.
    let failures = RateLimiter(.init(capacity: 10, perSecond: 1.0 / 6))
    /// Sign-ins begun per address: each keeps a row for a while, so a flood is cut off; a school behind one address
    /// signing in at the start of the day stays far below.
    let starts = RateLimiter(.init(capacity: 100, perSecond: 5))

    /// The most characters (code points) of a `code`, `state` or invite code; providers' codes are far shorter.
    static let maximumField = 2048

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        let oidc = router.group("v1/oidc")
        oidc.get("", use: settings)
        oidc.post("start", use: start)
        oidc.post("finish", use: finish)
        oidc.post("backchannel-logout", use: backChannelLogout)
    }

    /// Whether the web client shows the provider's button, and its label.
    @Sendable func settings(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.SignInSettingsBody {
        Wire.SignInSettingsBody(enabled: client != nil, label: client?.configuration.buttonLabel)
    }

    /// Begins a sign-in: keeps a fresh `state`, `nonce` and PKCE verifier, and answers where to send the browser.
    @Sendable func start(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.SignInStartBody {
        let client = try configured()
        let address = context.clientAddress(of: request, trustingProxy: api.configuration.trustProxyHeaders)
        guard starts.allow(address) else { throw ZvonokError.rateLimited("too many sign-ins begun from this address; wait a moment") }
        let body = try await request.decodeBody(Body.SignInStart.self, context: context)
        guard let redirectURI = body.redirectUri ?? client.configuration.redirectURIs.first, client.configuration.redirectURIs.contains(redirectURI)
        else {
            throw ZvonokError.invalidArgument("redirectUri is not one of the configured redirect URIs")
        }
        let (state, pending) = (
            Secret.urlSafe(), IdentityStore.PendingSignIn(nonce: Secret.urlSafe(), codeVerifier: Secret.urlSafe(), redirectURI: redirectURI)
        )
        let url = try await client.authorizationURL(state: state, nonce: pending.nonce, codeVerifier: pending.codeVerifier, redirectURI: redirectURI)
        try await api.identities.begin(pending, state: state, lifetime: client.configuration.signInLifetime)
        return Wire.SignInStartBody(authorizationUrl: url, state: state)
    }

    /// Ends a sign-in: takes the `state` once, exchanges the code, validates the ID token, and signs the subject in
    /// through its link, the invite code typed, or the verified address the school entered — else 403 `not_listed`.
    @Sendable func finish(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.ActivationBody {
        let client = try configured()
        let body = try await request.decodeBody(Body.SignInFinish.self, context: context)
        for field in [body.code, body.state, body.inviteCode ?? ""] where field.unicodeScalars.count > Self.maximumField {
            throw ZvonokError.invalidArgument("a field is longer than \(Self.maximumField) characters")
        }
        let address = context.clientAddress(of: request, trustingProxy: api.configuration.trustProxyHeaders)
        guard failures.hasCapacity(address) else { throw ZvonokError.rateLimited("too many failed sign-ins from this address; wait a minute") }
        do {
            return try await signIn(body, client: client)
        } catch let error as ZvonokError where error.code != .unavailable {
            failures.allow(address)
            throw error
        }
    }

    private func signIn(_ body: Body.SignInFinish, client: OIDCClient) async throws -> Wire.ActivationBody {
        let inviteCode = try body.inviteCode.map { code in
            guard let normalized = InviteCode.normalize(code) else { throw ZvonokError.notFound("unknown, used or expired invite code") }
            return normalized
        }
        guard let pending = try await api.identities.take(state: body.state) else {
            throw ZvonokError.invalidArgument("this sign-in is unknown, already used or expired: start again")
        }
        let claims = try await client.exchange(
            code: body.code, codeVerifier: pending.codeVerifier, redirectURI: pending.redirectURI, nonce: pending.nonce)
        switch try await api.identities.signIn(claims.identity, inviteCode: inviteCode) {
        case .signedIn(let personID, let token, let expiresAt, _):
            return Wire.ActivationBody(userId: PublicID.encode(.person, personID), token: token, expiresAt: expiresAt)
        case .unknownInvite:
            throw ZvonokError.notFound("unknown, used or expired invite code")
        case .ambiguous:
            throw ZvonokError.conflict("several people are listed with this e-mail address: sign in once with your invite code")
        case .notListed:
            throw ZvonokError(
                .notListed,
                "your school has not listed you with this account: ask your class teacher or the school's administrator for an invite "
                    + "code, then sign in once with it")
        }
    }

    /// The provider's back-channel logout: a signed logout token ends the Zvonok sessions that sign-ins of its
    /// session (`sid`) or subject opened; their connections close with 4001.
    @Sendable func backChannelLogout(_ request: Request, context: ZvonokRequestContext) async throws -> Response {
        let client = try configured()
        let form = FormEncoding.decode(String(buffer: try await request.body.collect(upTo: 64 * 1024)))
        guard let token = form["logout_token"], !token.isEmpty else { throw ZvonokError.invalidArgument("logout_token is missing") }
        let target = try await client.verifyLogoutToken(token).target
        try await api.access.endProviderSessions(issuer: target.issuer, subject: target.subject, sid: target.sid)
        return Response(status: .ok, headers: [.cacheControl: "no-store"])
    }

    /// The client, or 404 where no provider is configured.
    private func configured() throws -> OIDCClient {
        guard let client else { throw ZvonokError.notFound("sign-in through a provider is not configured on this server") }
        return client
    }
}

extension Body {
    struct SignInStart: Decodable { @Omittable var redirectUri: String? }
    struct SignInFinish: Decodable { let code: String; let state: String; @Omittable var inviteCode: String? }
}

extension Wire {
    struct SignInSettingsBody: ResponseEncodable {
        let enabled: Bool
        let label: String?
    }

    struct SignInStartBody: ResponseEncodable {
        /// The provider's authorization endpoint with every parameter of this sign-in.
        let authorizationUrl: String
        /// Kept by the browser to check that the provider's redirect is the one it started.
        let state: String
    }
}
