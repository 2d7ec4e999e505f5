public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCore
public import ServiceLifecycle
public import ZvonokStorage

/// Builds the Zvonok server: routes, middleware and the services it runs (the database pool among them).
public enum ZvonokApplication {
    /// What `serve` runs, in start order. A service group shuts its services down in reverse order, so the partition
    /// keeper and the activity applier stop first, then the hub's drain — open WebSockets are closed with 1001 (going
    /// away) — and the server (with the database pool) after them.
    /// Throws `TLSSetupError` when the TLS certificate or key cannot be read.
    public static func services(configuration: ServerConfiguration, database: Database, logger: Logger) throws -> [any Service] {
        let hub = MessagingHub(database: database, configuration: configuration, logger: logger)
        return [
            try build(configuration: configuration, database: database, logger: logger, hub: hub), HubDrain(hub: hub),
            ActivityApplier(database: database, interval: configuration.activityInterval, logger: logger),
            MessagePartitionKeeper(database: database, logger: logger),
        ]
    }

    /// The application alone (for tests); migrations run before the server accepts connections.
    public static func build(configuration: ServerConfiguration, database: Database, logger: Logger) throws -> some ApplicationProtocol {
        try build(
            configuration: configuration, database: database, logger: logger,
            hub: MessagingHub(database: database, configuration: configuration, logger: logger))
    }

    static func build(configuration: ServerConfiguration, database: Database, logger: Logger, hub: MessagingHub) throws -> some ApplicationProtocol {
        let router = makeRouter(configuration: configuration, database: database, logger: logger, hub: hub)
        var app = Application(
            router: router,
            server: try server(configuration: configuration, router: router, hub: hub),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: configuration.nodeName),
            services: [database, ClusterRelayService(relay: hub.relay), SessionGuardService(sessions: hub.sessions)],
            logger: logger
        )
        if configuration.migrateAtStart {
            app.beforeServerStarts {
                try await database.migrate()
            }
        }
        return app
    }

    /// HTTP/1.1 with the upgrade to the hub's WebSocket, inside TLS (HTTPS and WSS) when a certificate is configured.
    static func server(configuration: ServerConfiguration, router: Router<ZvonokRequestContext>, hub: MessagingHub) throws -> HTTPServerBuilder {
        let upgradeResponder = router.buildResponder()
        // Behind a proxy every connection comes from the proxy's address: counting them would cap the whole server.
        let addresses =
            configuration.trustProxyHeaders || configuration.maximumConnectionsPerAddress == 0
            ? nil : ConnectionsPerAddress(limit: configuration.maximumConnectionsPerAddress)
        let http1 = HTTP1Channel.Configuration(idleTimeout: TimeAmount(configuration.idleTimeout))
        let plain = HTTPServerBuilder { responder in
            ConnectionGuard(
                base: SmallReceiveBuffers(base: HubUpgradeChannel(responder: responder, upgradeResponder: upgradeResponder, hub: hub, http1: http1)),
                headerTimeout: configuration.headerTimeout, addresses: addresses
            )
        }
        guard let tls = try configuration.tlsConfiguration() else { return plain }
        return try .tls(plain, tlsConfiguration: tls)
    }

    /// Every route, with the middleware in front of them.
    public static func makeRouter(configuration: ServerConfiguration, database: Database, logger: Logger) -> Router<ZvonokRequestContext> {
        makeRouter(
            configuration: configuration, database: database, logger: logger,
            hub: MessagingHub(database: database, configuration: configuration, logger: logger))
    }

    static func makeRouter(configuration: ServerConfiguration, database: Database, logger: Logger, hub: MessagingHub) -> Router<ZvonokRequestContext>
    {
        let router = Router(context: ZvonokRequestContext.self)
        let routeTable = MethodNotAllowedMiddleware.RouteTable()
        router.add(middleware: ErrorMiddleware(logger: logger))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: MethodNotAllowedMiddleware(table: routeTable))
        HealthRoutes(database: database, relay: hub.relay).register(on: router)
        MetricsRoutes(registry: ZvonokMetrics.registry).register(on: router)
        OpenAPIRoutes().register(on: router)
        WebClientRoutes().register(on: router)
        let api = APIContext(database: database, configuration: configuration, connections: hub)
        let authenticated = router.group().add(
            middleware: AuthenticationMiddleware(credentials: api.credentials, trustProxyHeaders: configuration.trustProxyHeaders))
        StructureRoutes(api: api).register(on: authenticated)
        PeopleRoutes(api: api).register(on: authenticated)
        AccountRoutes(api: api).register(on: authenticated)
        SignInRoutes(api: api, client: configuration.oidc.map { OIDCClient(configuration: $0, logger: logger) }).register(on: authenticated)
        RosterRoutes(api: api).register(on: authenticated)
        HistoryRoutes(messages: MessageStore(database: database), chats: ChatStore(database: database)).register(on: authenticated)
        AuditRoutes(audit: AuditStore(database: database)).register(on: authenticated)
        ModerationRoutes(api: api, moderation: ModerationStore(database: database)).register(on: authenticated)
        RatingRoutes(ratings: WeeklyRatingService(database: database, formula: configuration.ratingFormula)).register(on: authenticated)
        QRCodeRoutes().register(on: authenticated)
        WebSocketRoutes(hub: hub).register(on: authenticated)
        routeTable.load(router.routes)
        return router
    }
}
