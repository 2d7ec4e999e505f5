import AsyncHTTPClient
import Foundation
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCore
public import ServiceLifecycle
public import ZvonokStorage

/// Builds the Zvonok server: routes, middleware and the services it runs (the database pool among them).
public enum ZvonokApplication {
    /// What `serve` runs, in start order. A service group shuts its services down in reverse order, so the retention
    /// and partition keepers and the activity applier stop first, then the hub's drain — open WebSockets are closed
    /// with 1001 (going away) — and the server (with the database pool) after them.
    /// Throws `TLSSetupError` when the TLS certificate or key cannot be read.
    public static func services(configuration: ServerConfiguration, database: Database, logger: Logger) throws -> [any Service] {
        let hub = MessagingHub(database: database, configuration: configuration, logger: logger)
        let storage = blobStorage(configuration.files, database: database)
        if !PhotoTools(directories: configuration.files.vipsDirectories).makesPreviews {
            logger.notice("libvips is not installed: files get no previews and HEIC photos are refused (apt-get install libvips-tools)")
        }
        let background: [any Service] = [
            ActivityApplier(database: database, interval: configuration.activityInterval, logger: logger),
            MessagePartitionKeeper(database: database, logger: logger),
            FileJanitor(database: database, storage: storage, configuration: configuration.files, logger: logger),
            RetentionKeeper(database: database, policy: configuration.retention, dropFiles: filesOfDroppedHistory(database), logger: logger),
        ]
        return [try build(configuration: configuration, database: database, logger: logger, hub: hub, storage: storage), HubDrain(hub: hub)]
            + background.map { AfterMigrations($0, database: database) }
    }

    /// The application alone (for tests); migrations run before the server accepts connections.
    public static func build(configuration: ServerConfiguration, database: Database, logger: Logger) throws -> some ApplicationProtocol {
        try build(
            configuration: configuration, database: database, logger: logger,
            hub: MessagingHub(database: database, configuration: configuration, logger: logger),
            storage: blobStorage(configuration.files, database: database))
    }

    /// The retention's hook (issue 20): a month of history about to be dropped takes its files with it; their bytes
    /// go with the next sweep of the `FileJanitor`.
    public static func filesOfDroppedHistory(_ database: Database) -> RetentionStore.FilesHook {
        let files = FileStore(database: database)
        return { month in _ = try await files.removeFiles(postedBefore: month.end) }
    }

    /// Where the bytes of files live: the database, or the S3 bucket of `--files-url`.
    public static func blobStorage(_ configuration: FileConfiguration, database: Database) -> any BlobStorage {
        switch configuration.storage {
        case .postgres: PostgresBlobStorage(database: database)
        case .s3(let location): S3BlobStorage(location: location, client: .shared)
        }
    }

    static func build(
        configuration: ServerConfiguration, database: Database, logger: Logger, hub: MessagingHub, storage: any BlobStorage
    ) throws -> some ApplicationProtocol {
        let keyring = VAPIDKeyring(store: PushRegistrationStore(database: database), contact: configuration.notifications.contact)
        let router = makeRouter(configuration: configuration, database: database, logger: logger, hub: hub, storage: storage, keyring: keyring)
        var app = Application(
            router: router,
            server: try server(configuration: configuration, router: router, hub: hub),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: configuration.nodeName),
            services: [database, ClusterRelayService(relay: hub.relay), SessionGuardService(sessions: hub.sessions)]
                + (try notifications(configuration: configuration, database: database, hub: hub, keyring: keyring, logger: logger)),
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
            hub: MessagingHub(database: database, configuration: configuration, logger: logger),
            storage: blobStorage(configuration.files, database: database),
            keyring: VAPIDKeyring(store: PushRegistrationStore(database: database), contact: configuration.notifications.contact))
    }

    static func makeRouter(
        configuration: ServerConfiguration, database: Database, logger: Logger, hub: MessagingHub, storage: any BlobStorage,
        keyring: VAPIDKeyring
    ) -> Router<ZvonokRequestContext> {
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
        RolloverRoutes(api: api).register(on: authenticated)
        RegistryRoutes(api: api, registries: RegistryStore(database: database)).register(on: authenticated)
        PersonalDataRoutes(api: api, exports: ExportStore(database: database), erasures: ErasureStore(database: database)).register(on: authenticated)
        HistoryRoutes(messages: MessageStore(database: database), chats: ChatStore(database: database)).register(on: authenticated)
        AuditRoutes(audit: AuditStore(database: database)).register(on: authenticated)
        ModerationRoutes(api: api, moderation: ModerationStore(database: database)).register(on: authenticated)
        RatingRoutes(ratings: WeeklyRatingService(database: database, formula: configuration.ratingFormula)).register(on: authenticated)
        QRCodeRoutes().register(on: authenticated)
        FileRoutes(database: database, storage: storage, configuration: configuration.files).register(on: authenticated)
        PushRoutes(registrations: PushRegistrationStore(database: database), keyring: keyring, endpoints: configuration.notifications.endpoints)
            .register(on: authenticated)
        NotificationSettingsRoutes(api: api, settings: NotificationSettingsStore(database: database), messages: MessageStore(database: database))
            .register(on: authenticated)
        WebSocketRoutes(hub: hub).register(on: authenticated)
        routeTable.load(router.routes)
        return router
    }
}
