import ArgumentParser
import Foundation
import ZvonokServer

extension Serve {
    /// Sign-in through an OpenID Connect provider from `--oidc-…` (or their variables); nil without an issuer.
    func oidcConfiguration(environment: [String: String]) throws -> OIDCConfiguration? {
        guard let issuer = oidcIssuer ?? environment["ZVONOK_OIDC_ISSUER"], !issuer.isEmpty else { return nil }
        guard Self.isSafeURL(issuer) else { throw ValidationError("--oidc-issuer must be an https URL (http only on this machine)") }
        guard let clientID = oidcClientId ?? environment["ZVONOK_OIDC_CLIENT_ID"], !clientID.isEmpty else {
            throw ValidationError("--oidc-issuer needs --oidc-client-id")
        }
        let redirectURIs =
            oidcRedirectUri.isEmpty ? Self.list(environment["ZVONOK_OIDC_REDIRECT_URIS"] ?? "", separators: ",") : oidcRedirectUri
        guard !redirectURIs.isEmpty else { throw ValidationError("--oidc-issuer needs at least one --oidc-redirect-uri") }
        for uri in redirectURIs where !Self.isSafeURL(uri) || uri.contains("#") {
            throw ValidationError("--oidc-redirect-uri must be an https URL without a fragment (http only on this machine): \(uri)")
        }
        let secret = environment["ZVONOK_OIDC_CLIENT_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        var configuration = OIDCConfiguration(issuer: issuer, clientID: clientID, clientSecret: secret, redirectURIs: redirectURIs)
        if let scopes = oidcScopes ?? environment["ZVONOK_OIDC_SCOPES"] { configuration.scopes = Self.list(scopes, separators: ", ") }
        if let label = oidcButtonLabel ?? environment["ZVONOK_OIDC_BUTTON_LABEL"], !label.isEmpty { configuration.buttonLabel = label }
        return configuration
    }

    /// An https URL, or an http one to this machine (a gateway beside the server, or a test provider).
    static func isSafeURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else { return false }
        return scheme == "https" || (scheme == "http" && ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host))
    }

    private static func list(_ text: String, separators: String) -> [String] {
        text.split(whereSeparator: { separators.contains($0) }).map(String.init)
    }
}
