public import Hummingbird
import HummingbirdWebSocket
public import Logging
public import ZvonokStorage

/// Builds the Zvonok server: routes, middleware and the services it runs (the database pool among them).
public enum ZvonokApplication {
    /// The application for `serve` and for tests. Migrations run before the server accepts connections.
    public static func build(
        configuration: ServerConfiguration,
        database: Database,
        logger: Logger
    ) -> some ApplicationProtocol {
        let router = makeRouter(configuration: configuration, database: database, logger: logger)

        var app = Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: router),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: configuration.nodeName),
            services: [database.client],
            logger: logger
        )
        if configuration.migrateAtStart {
            app.beforeServerStarts {
                try await database.migrate()
            }
        }
        return app
    }

    /// Every route, with the middleware in front of them.
    public static func makeRouter(configuration: ServerConfiguration, database: Database, logger: Logger) -> Router<ZvonokRequestContext> {
        let router = Router(context: ZvonokRequestContext.self)
        router.add(middleware: ErrorMiddleware(logger: logger))
        router.add(middleware: MetricsMiddleware())
        HealthRoutes(database: database).register(on: router)
        MetricsRoutes(registry: ZvonokMetrics.registry).register(on: router)
        OpenAPIRoutes().register(on: router)
        let hub = MessagingHub(database: database, logger: logger)
        let api = APIContext(database: database, configuration: configuration, membershipChanged: hub.apply)
        let authenticated = router.group().add(middleware: AuthenticationMiddleware(credentials: api.credentials))
        StructureRoutes(api: api).register(on: authenticated)
        PeopleRoutes(api: api).register(on: authenticated)
        AccountRoutes(api: api).register(on: authenticated)
        RosterRoutes(api: api, rosters: RosterStore(database: database)).register(on: authenticated)
        HistoryRoutes(messages: MessageStore(database: database)).register(on: authenticated)
        RatingRoutes(api: api, ratings: RatingStore(database: database), formula: configuration.ratingFormula).register(on: authenticated)
        WebSocketRoutes(hub: hub).register(on: authenticated)
        return router
    }
}
