/// How Zvonok reaches an OpenID Connect provider for sign-in (in production ESIA, through an OIDC gateway): any
/// conformant provider, found through its discovery document.
public struct OIDCConfiguration: Sendable {
    /// The provider's issuer URL, exactly as its discovery document and ID tokens name it.
    public var issuer: String
    /// Zvonok's client id at the provider: the audience its ID tokens must name.
    public var clientID: String
    /// The client secret (`client_secret_basic`), from the environment; nil for a public client (PKCE alone).
    public var clientSecret: String?
    /// The scopes asked for; `openid` is always among them.
    public var scopes: [String] = ["openid", "email"]
    /// The redirect URIs the provider may send the browser back to, matched exactly; the first is the default.
    public var redirectURIs: [String]
    /// The web client's button.
    public var buttonLabel: String = "Войти через Госуслуги"
    /// How far the provider's clock may be off Zvonok's when `exp` and `iat` are checked.
    public var clockSkew: Duration = .seconds(120)
    /// How long a sign-in may take between leaving for the provider and coming back (the `state`'s life).
    public var signInLifetime: Duration = .seconds(600)
    /// How long the discovery document and the signing keys are kept before they are fetched again.
    public var cacheLifetime: Duration = .seconds(3600)
    /// The least time between two fetches of the keys prompted by a token signed with a key not yet known (a
    /// rotation), so that forged key ids cannot make Zvonok hammer the provider.
    public var keyRefetchInterval: Duration = .seconds(10)

    public init(issuer: String, clientID: String, clientSecret: String?, redirectURIs: [String]) {
        self.issuer = issuer
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.redirectURIs = redirectURIs
    }

    /// The scopes as the authorization request sends them, `openid` first.
    var scopeParameter: String {
        (["openid"] + scopes.filter { $0 != "openid" }).joined(separator: " ")
    }
}
