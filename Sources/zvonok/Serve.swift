import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals
import ZvonokCore
import ZvonokServer
import ZvonokStorage

/// `zvonok serve`: the HTTP and WebSocket server.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the HTTP API and the WebSocket hub (the default).")

    @OptionGroup var common: CommonOptions
    @OptionGroup var retention: RetentionOptions

    @Option(help: "Address to listen on. [env: ZVONOK_HOST] (default: 127.0.0.1)")
    var host: String?

    @Option(help: "Port to listen on. [env: ZVONOK_PORT] (default: 8080)")
    var port: Int?

    @Option(help: "This node's name in logs and /metrics when several nodes share a database. [env: ZVONOK_NODE_NAME] (default: zvonok)")
    var nodeName: String?

    @Option(help: "PEM file of the TLS certificate chain; with --tls-key the server speaks HTTPS and WSS. [env: ZVONOK_TLS_CERT]")
    var tlsCert: String?

    @Option(help: "PEM file of the TLS certificate's private key. [env: ZVONOK_TLS_KEY]")
    var tlsKey: String?

    @Flag(
        help: "Take client addresses from X-Real-IP (set by a load balancer that overwrites it), for per-address limits. [env: ZVONOK_TRUST_PROXY=1]")
    var trustProxy = false

    @Option(help: "Days an invite code stays valid. [env: ZVONOK_INVITE_DAYS] (default: 30)")
    var inviteDays: Int?

    @Option(help: "Days a token keeps working unused; each use slides it. [env: ZVONOK_TOKEN_DAYS] (default: 90)")
    var tokenDays: Int?

    @Option(
        help:
            "Seconds between checks of open connections' sessions and chats against the database. [env: ZVONOK_SESSION_CHECK_INTERVAL] (default: 10)")
    var sessionCheckInterval: Double?

    @Option(help: "Messages per second one person may send; 0 lifts the limit. [env: ZVONOK_SEND_RATE] (default: 5)")
    var sendRate: Double?

    @Option(help: "Messages one person may send at once before --send-rate applies. [env: ZVONOK_SEND_BURST] (default: 20)")
    var sendBurst: Int?

    @Option(help: "Edits one person may make: RATE/BURST, or 0 for no limit. [env: ZVONOK_EDIT_LIMIT] (default: 1/10)")
    var editLimit: String?

    @Option(help: "Deletions one person may make: RATE/BURST, or 0 for no limit. [env: ZVONOK_DELETE_LIMIT] (default: 2/20)")
    var deleteLimit: String?

    @Option(help: "Read marks one person may send: RATE/BURST, or 0 for no limit. [env: ZVONOK_READ_LIMIT] (default: 5/50)")
    var readLimit: String?

    @Option(help: "Syncs one person may ask for: RATE/BURST, or 0 for no limit. [env: ZVONOK_SYNC_LIMIT] (default: 5/100)")
    var syncLimit: String?

    @Option(help: "Protocol pings one person may send: RATE/BURST, or 0 for no limit. [env: ZVONOK_PING_LIMIT] (default: 2/100)")
    var pingLimit: String?

    @Option(help: "Group commits that may run at once. [env: ZVONOK_COMMITS_IN_FLIGHT] (default: 4)")
    var commitsInFlight: Int?

    @Option(help: "The most messages one group commit takes. [env: ZVONOK_COMMIT_BATCH] (default: 2000)")
    var commitBatch: Int?

    @Option(
        help:
            "Seconds between applications of the activity the group commits queue to the rating's counts. [env: ZVONOK_ACTIVITY_INTERVAL] (default: 1)"
    )
    var activityInterval: Double?

    @Option(help: "WebSocket connections one person may hold open on this node. [env: ZVONOK_CONNECTIONS_PER_PERSON] (default: 10)")
    var connectionsPerPerson: Int?

    @Option(
        help:
            "Seconds a new connection has to send its first request's head (TLS handshake included) before it is closed. [env: ZVONOK_HEADER_TIMEOUT] (default: 10)"
    )
    var headerTimeout: Double?

    @Option(
        help: "Seconds a kept-alive HTTP connection may stay idle before it is closed (never a WebSocket). [env: ZVONOK_IDLE_TIMEOUT] (default: 60)")
    var idleTimeout: Double?

    @Option(
        help:
            "Connections one address may hold open at once; 0 lifts the limit (not applied with --trust-proxy). [env: ZVONOK_CONNECTIONS_PER_ADDRESS] (default: 5000)"
    )
    var connectionsPerAddress: Int?

    @Option(
        help:
            "Seconds a database statement may run before PostgreSQL cancels it (and the request answers 503); 0: no limit. [env: ZVONOK_STATEMENT_TIMEOUT] (default: 30)"
    )
    var statementTimeout: Double?

    @Option(
        help:
            "The weekly rating's weights for schoolsShare, teachersShare and teachersActiveShare, adding up to 1. [env: ZVONOK_RATING_WEIGHTS] (default: 0.3,0.3,0.4)"
    )
    var ratingWeights: String?

    @Option(
        help:
            "The OpenID Connect provider's issuer URL (ESIA through a gateway): people may then sign in through it; the client secret comes from ZVONOK_OIDC_CLIENT_SECRET. [env: ZVONOK_OIDC_ISSUER]"
    )
    var oidcIssuer: String?

    @Option(help: "Zvonok's client id at the provider. [env: ZVONOK_OIDC_CLIENT_ID]")
    var oidcClientId: String?

    @Option(help: "Scopes asked of the provider, separated by spaces or commas. [env: ZVONOK_OIDC_SCOPES] (default: openid email)")
    var oidcScopes: String?

    @Option(
        help:
            "A redirect URI the provider may send browsers back to, matched exactly; repeat for several, the first is the default. [env: ZVONOK_OIDC_REDIRECT_URIS, comma-separated]"
    )
    var oidcRedirectUri: [String] = []

    @Option(help: "The web client's sign-in button. [env: ZVONOK_OIDC_BUTTON_LABEL] (default: Войти через Госуслуги)")
    var oidcButtonLabel: String?

    @OptionGroup var push: PushOptions

    @Flag(help: "Fill the database with a small demo region (made once) and print a sign-in link for each of its people.")
    var demo = false

    @Option(help: "The largest file one may upload, in MiB. [env: ZVONOK_MAX_FILE_MIB] (default: 25)")
    var maxFileMib: Int?

    @Option(help: "Files one message may carry. [env: ZVONOK_FILES_PER_MESSAGE] (default: 10)")
    var filesPerMessage: Int?

    @Option(help: "MiB one person may upload in 24 hours. [env: ZVONOK_DAILY_UPLOAD_MIB] (default: 1024)")
    var dailyUploadMib: Int?

    @Option(
        help:
            "Keep files in an S3-compatible bucket instead of PostgreSQL: s3://BUCKET?endpoint=URL&region=REGION, credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. [env: ZVONOK_FILES_URL]"
    )
    var filesUrl: String?

    @Option(help: "Folder where uploads are spooled while they are checked. [env: ZVONOK_SPOOL_DIR] (default: the system's temporary folder)")
    var spoolDir: String?

    @Option(help: "Hours an upload that no message carries is kept. [env: ZVONOK_UNPOSTED_FILE_HOURS] (default: 24)")
    var unpostedFileHours: Int?

    @Option(help: "Days the files of a deleted message are kept for the moderators. [env: ZVONOK_DELETED_FILE_DAYS] (default: 30)")
    var deletedFileDays: Int?

    func run() async throws {
        let logger = common.makeLogger()
        let environment = ProcessInfo.processInfo.environment
        var configuration = ServerConfiguration()
        configuration.host = host ?? environment["ZVONOK_HOST"] ?? configuration.host
        configuration.nodeName = nodeName ?? environment["ZVONOK_NODE_NAME"] ?? configuration.nodeName
        if let port = try port ?? environment["ZVONOK_PORT"].map(Self.parsePort) { configuration.port = port }
        configuration.tlsCertificatePath = tlsCert ?? environment["ZVONOK_TLS_CERT"]
        configuration.tlsKeyPath = tlsKey ?? environment["ZVONOK_TLS_KEY"]
        guard (configuration.tlsCertificatePath == nil) == (configuration.tlsKeyPath == nil) else {
            throw ValidationError("TLS needs both --tls-cert and --tls-key")
        }
        configuration.trustProxyHeaders = trustProxy || environment["ZVONOK_TRUST_PROXY"] == "1"
        if let days = try count(inviteDays, "ZVONOK_INVITE_DAYS", "invite days") { configuration.inviteLifetime = .seconds(days * 24 * 3600) }
        if let days = try count(tokenDays, "ZVONOK_TOKEN_DAYS", "token days") { configuration.tokenLifetime = .seconds(days * 24 * 3600) }
        if let seconds = sessionCheckInterval ?? environment["ZVONOK_SESSION_CHECK_INTERVAL"].flatMap(Double.init) {
            guard seconds > 0 else { throw ValidationError("the session check interval must be above 0") }
            configuration.sessionCheckInterval = .seconds(seconds)
        }

        if let rate = sendRate ?? environment["ZVONOK_SEND_RATE"].flatMap(Double.init) {
            guard rate >= 0 else { throw ValidationError("the send rate cannot be negative") }
            configuration.sendRate = rate
        }
        if let burst = try count(sendBurst, "ZVONOK_SEND_BURST", "the send burst") { configuration.sendBurst = burst }
        try applyFrameLimits(to: &configuration)
        if let inFlight = try count(commitsInFlight, "ZVONOK_COMMITS_IN_FLIGHT", "commits in flight") { configuration.commitsInFlight = inFlight }
        if let batch = try count(commitBatch, "ZVONOK_COMMIT_BATCH", "the commit batch") { configuration.commitBatch = batch }
        if let interval = try seconds(activityInterval, "ZVONOK_ACTIVITY_INTERVAL", "the activity interval") {
            configuration.activityInterval = interval
        }
        if let timeout = try seconds(headerTimeout, "ZVONOK_HEADER_TIMEOUT", "the header timeout") { configuration.headerTimeout = timeout }
        if let timeout = try seconds(idleTimeout, "ZVONOK_IDLE_TIMEOUT", "the idle timeout") { configuration.idleTimeout = timeout }
        if let limit = connectionsPerAddress ?? environment["ZVONOK_CONNECTIONS_PER_ADDRESS"].flatMap(Int.init) {
            guard limit >= 0 else { throw ValidationError("connections per address cannot be negative") }
            configuration.maximumConnectionsPerAddress = limit
        }
        if let limit = try count(connectionsPerPerson, "ZVONOK_CONNECTIONS_PER_PERSON", "connections per person") {
            configuration.maximumConnectionsPerPerson = limit
        }
        if let weights = ratingWeights ?? environment["ZVONOK_RATING_WEIGHTS"] {
            do { configuration.ratingFormula = try RatingFormula(parsing: weights) } catch { throw ValidationError(error.message) }
        }

        configuration.oidc = try oidcConfiguration(environment: environment)
        configuration.files = try fileConfiguration(environment: environment)
        try push.apply(to: &configuration.notifications, environment: environment)
        try retention.apply(to: &configuration)

        var timeouts = Database.Timeouts()
        if let seconds = statementTimeout ?? environment["ZVONOK_STATEMENT_TIMEOUT"].flatMap(Double.init) {
            guard seconds >= 0 else { throw ValidationError("the statement timeout cannot be negative") }
            timeouts.statement = .seconds(seconds)
        }

        let session = try await common.openDatabase(logger: logger)
        logger.notice("Database ready; connect with: psql \"\(session.url)\"")
        if demo {
            let base = "http://\(configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host):\(configuration.port)"
            do {
                try await DemoSignIns.prepare(url: session.url, inviteLifetime: configuration.inviteLifetime, baseURL: base, logger: logger)
            } catch {
                await stopEmbedded(session, logger: logger)
                throw error
            }
        }
        let database = Database(url: session.url, logger: logger, timeouts: timeouts)
        do {
            let services = try ZvonokApplication.services(configuration: configuration, database: database, logger: logger)
            let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } catch {
            await stopEmbedded(session, logger: logger)
            throw error
        }
        await stopEmbedded(session, logger: logger)
    }

    /// `--edit-limit` … `--ping-limit` (or their variables) over the defaults of `FrameRate.defaults`.
    private func applyFrameLimits(to configuration: inout ServerConfiguration) throws {
        let options: [(FrameKind, String?)] = [
            (.edit, editLimit), (.delete, deleteLimit), (.read, readLimit), (.sync, syncLimit), (.ping, pingLimit),
        ]
        for (kind, option) in options {
            guard let text = option ?? ProcessInfo.processInfo.environment["ZVONOK_\(kind.rawValue.uppercased())_LIMIT"] else { continue }
            do { configuration.frameRates[kind] = try FrameRate(parsing: text) } catch {
                throw ValidationError("--\(kind.rawValue)-limit: \(error.message)")
            }
        }
    }

    /// A whole-number setting: the option's value, else the environment variable's, else nil; at least 1.
    func count(_ option: Int?, _ variable: String, _ what: String) throws -> Int? {
        guard let value = option ?? ProcessInfo.processInfo.environment[variable].flatMap(Int.init) else { return nil }
        guard value >= 1 else { throw ValidationError("\(what) must be at least 1") }
        return value
    }

    /// A duration in seconds: the option's value, else the environment variable's, else nil; above 0.
    private func seconds(_ option: Double?, _ variable: String, _ what: String) throws -> Duration? {
        guard let value = option ?? ProcessInfo.processInfo.environment[variable].flatMap(Double.init) else { return nil }
        guard value > 0 else { throw ValidationError("\(what) must be above 0") }
        return .seconds(value)
    }

    /// The server owns the embedded cluster it serves from, so it stops it on the way out.
    private func stopEmbedded(_ session: DatabaseSession, logger: Logger) async {
        guard let embedded = session.embedded else { return }
        do {
            try await embedded.stop()
            logger.info("Stopped the embedded PostgreSQL cluster")
        } catch {
            logger.error("Could not stop the embedded PostgreSQL cluster: \(error)")
        }
    }

    private static func parsePort(_ text: String) throws -> Int {
        guard let port = Int(text), (0...65535).contains(port) else { throw ValidationError("ZVONOK_PORT is not a port: \(text)") }
        return port
    }
}
