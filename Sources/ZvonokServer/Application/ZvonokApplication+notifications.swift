import AsyncHTTPClient
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import ZvonokStorage

extension ZvonokApplication {
    /// The node's presence beside the notification sender (where this node sends), each started once the schema is
    /// current.
    static func notifications(
        configuration: ServerConfiguration, database: Database, hub: MessagingHub, keyring: VAPIDKeyring, logger: Logger
    ) throws -> [any Service] {
        let worker: [any Service] =
            configuration.notifications.sends
            ? [try notificationWorker(configuration: configuration.notifications, database: database, keyring: keyring, logger: logger)] : []
        return ([hub.presence as any Service] + worker).map { AfterMigrations($0, database: database) }
    }

    /// The notification sender with a sender for every push service configured (Web Push always). Throws when a
    /// phone platform's key cannot be read.
    static func notificationWorker(
        configuration: NotificationConfiguration, database: Database, keyring: VAPIDKeyring, logger: Logger
    ) throws -> NotificationWorker {
        let client = pushClient(configuration)
        let http = PushHTTP(http: client, timeout: configuration.requestTimeout)
        let phones = configuration.phones
        var senders: [any PushSender] = [
            WebPushSender(http: client, vapid: keyring, endpoints: configuration.endpoints, timeout: configuration.requestTimeout, logger: logger)
        ]
        if let fcm = phones.fcm { senders.append(try FCMSender(configuration: fcm, http: http, clock: configuration.clock)) }
        if let apns = phones.apns { senders.append(try APNsSender(configuration: apns, http: http, clock: configuration.clock)) }
        if let rustore = phones.rustore { senders.append(RuStoreSender(configuration: rustore, http: http)) }
        if let hms = phones.hms { senders.append(HMSSender(configuration: hms, http: http)) }
        return NotificationWorker(
            outbox: NotificationOutbox(database: database), senders: senders, http: client, configuration: configuration, logger: logger)
    }

    /// The push services' HTTP client: redirects are not followed (an allowed host could otherwise send the server
    /// anywhere). Its pool keeps AsyncHTTPClient's default of 8 connections per host: with 16, a request to the test's
    /// loopback push service now and then never got an answer while other suites ran beside it.
    private static func pushClient(_ configuration: NotificationConfiguration) -> HTTPClient {
        var client = HTTPClient.Configuration()
        client.redirectConfiguration = .disallow
        if !configuration.additionalTrustRoots.isEmpty {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.certificates(configuration.additionalTrustRoots)]
            client.tlsConfiguration = tls
        }
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: client)
    }
}
