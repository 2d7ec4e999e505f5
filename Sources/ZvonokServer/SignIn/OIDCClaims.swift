import Foundation
import JWTKit
import ZvonokStorage

/// The claims of an ID token that Zvonok reads. jwt-kit checks the signature and the audience; `OIDCClient` checks
/// the issuer, the times and the nonce against what it expects.
struct IDTokenClaims: JWTIdentityToken {
    let iss: IssuerClaim
    let sub: SubjectClaim
    let aud: AudienceClaim
    let exp: ExpirationClaim
    let iat: IssuedAtClaim
    let nonce: String?
    let sid: String?
    let email: String?
    /// Some providers send `"true"` as a string; `BoolClaim` reads both.
    let emailVerified: BoolClaim?

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, iat, nonce, sid, email
        case emailVerified = "email_verified"
    }

    var audience: AudienceClaim { aud }

    func verify(using algorithm: some JWTAlgorithm) async throws {}

    /// Who signed in, as the identity store links them: the e-mail address only when the provider verified it.
    var identity: IdentityStore.ProviderIdentity {
        IdentityStore.ProviderIdentity(
            issuer: iss.value, subject: sub.value, sessionID: sid, verifiedEmail: emailVerified?.value == true ? email : nil)
    }
}

/// The claims of a back-channel logout token (OpenID Connect Back-Channel Logout 1.0, §2.4).
struct LogoutTokenClaims: JWTIdentityToken {
    /// Any JSON object: the logout event's value, whose members Zvonok does not read.
    struct Event: Codable, Sendable {}

    static let logoutEvent = "http://schemas.openid.net/event/backchannel-logout"

    let iss: IssuerClaim
    let aud: AudienceClaim
    let iat: IssuedAtClaim
    let exp: ExpirationClaim?
    let jti: IDClaim
    let sub: SubjectClaim?
    let sid: String?
    let events: [String: Event]
    /// Must be absent: a logout token carrying a nonce could be an ID token replayed.
    let nonce: String?

    var audience: AudienceClaim { aud }

    /// Whose sessions end: the provider's subject, its session, or both.
    var target: (issuer: String, subject: String?, sid: String?) { (iss.value, sub?.value, sid) }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
