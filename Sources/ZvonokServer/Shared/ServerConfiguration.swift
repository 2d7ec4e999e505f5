public import ZvonokCore
public import ZvonokStorage

/// Where the HTTP and WebSocket server listens, and what it calls itself.
public struct ServerConfiguration: Sendable {
    /// Address to bind; loopback by default so that nothing is exposed by accident.
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// Names this node in logs and `/metrics` when several nodes share a database.
    public var nodeName: String = "zvonok"
    /// Apply `sql/` before accepting connections. Off where a deployment migrates in a separate step.
    public var migrateAtStart: Bool = true
    /// How long an invite code works.
    public var inviteLifetime: Duration = .seconds(30 * 24 * 3600)
    /// How long a token works without being used; each use slides it.
    public var tokenLifetime: Duration = CredentialStore.defaultTokenLifetime
    /// How often a node checks its open connections' sessions and memberships against the database, healing what a
    /// lost notification left behind (`SessionGuard`).
    public var sessionCheckInterval: Duration = .seconds(10)
    /// PEM file of the certificate chain; with `tlsKeyPath` the server speaks HTTPS and WSS itself.
    public var tlsCertificatePath: String?
    /// PEM file of the certificate's private key.
    public var tlsKeyPath: String?
    /// Take the client's address from `X-Real-IP` (set by the load balancer) for per-address limits. Only behind a
    /// proxy that overwrites the header: otherwise a client could pick its own address.
    public var trustProxyHeaders: Bool = false
    /// Sign-in through an OpenID Connect provider (ESIA through a gateway); nil: invite codes only.
    public var oidc: OIDCConfiguration?
    /// Web Push and phone notifications: push services, coalescing, retries, the clock of quiet hours.
    public var notifications = NotificationConfiguration()
    /// How long a graduated class's archived chats stay readable by their members after a rollover (issue 20).
    public var graduateArchiveReadable: Duration = .seconds(180 * 24 * 3600)
    /// How long history, deleted texts, audit entries and removed people's data are kept (`RetentionKeeper`).
    public var retention = RetentionPolicy()
    /// The weekly rating's weights; the contract's unless an operator sets others.
    public var ratingFormula: RatingFormula = .contract

    /// Messages per second one person may send, over all their connections; 0 lifts the limit.
    public var sendRate: Double = 5
    /// Messages one person may send at once before `sendRate` applies.
    public var sendBurst: Int = 20
    /// Per-person limits of the other client frames (`edit`, `delete`, `read`, `sync`, `ping`); a kind left out is
    /// not limited. Over the limit a frame is answered with `rate_limited`.
    public var frameRates: [FrameKind: FrameRate] = FrameRate.defaults
    /// Group commits that may run at once: one keeps a database core busy, a few keep several busy.
    public var commitsInFlight: Int = 4
    /// The most messages one group commit takes.
    public var commitBatch: Int = 2000
    /// How often activity queued by the group commits is applied to `activity_daily` and the rating's roll-ups in
    /// the background (a read of the rating applies it itself first).
    public var activityInterval: Duration = .seconds(1)
    /// WebSocket connections one person may hold open on this node (phones, laptops, tabs); more are refused.
    public var maximumConnectionsPerPerson: Int = 10
    /// How often an idle WebSocket is pinged; a connection that has not answered by the next ping is dropped.
    public var pingInterval: Duration = .seconds(30)
    /// How often a node checks, by a heartbeat sent to itself, that its listening connection still hears the
    /// channel; after three silent periods it listens again on a fresh connection and catches up.
    public var clusterHeartbeat: Duration = .seconds(5)
    /// How long a closing connection has to take its last frames and answer the close frame before it is cut off.
    public var closeGrace: Duration = .seconds(5)
    /// How long a new connection has to deliver the head of its first request — TLS handshake included — before it
    /// is closed: a client that sends a request line and a header and then nothing holds no socket for long.
    public var headerTimeout: Duration = .seconds(10)
    /// How long a kept-alive HTTP connection may stay idle, or take over a later request, before it is closed. Never
    /// applies to a WebSocket, which the hub pings instead.
    public var idleTimeout: Duration = .seconds(60)
    /// Connections one remote address may hold open at once; more are closed on arrival. A whole school may sit
    /// behind one NAT address (a thousand people, each with a phone and a laptop), hence the high default. 0 lifts
    /// the limit; it does not apply with `trustProxyHeaders`, where every connection comes from the proxy.
    public var maximumConnectionsPerAddress: Int = 5000
    /// Files in chats (`ServerConfiguration+files.swift`).
    public var files = FileConfiguration()

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }
}
