public import ZvonokCore

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
    /// PEM file of the certificate chain; with `tlsKeyPath` the server speaks HTTPS and WSS itself.
    public var tlsCertificatePath: String?
    /// PEM file of the certificate's private key.
    public var tlsKeyPath: String?
    /// Take the client's address from `X-Real-IP` (set by the load balancer) for per-address limits. Only behind a
    /// proxy that overwrites the header: otherwise a client could pick its own address.
    public var trustProxyHeaders: Bool = false
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

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }
}
