import AsyncHTTPClient
import Logging
import ZvonokStorage

extension ZvonokApplication {
    /// The notification sender with a sender for every push service configured (Web Push always). Throws when a
    /// phone platform's key cannot be read.
    static func notificationWorker(
        configuration: NotificationConfiguration, database: Database, keyring: VAPIDKeyring, logger: Logger
    ) throws -> NotificationWorker {
        let http = PushHTTP(http: .shared, timeout: configuration.requestTimeout)
        let phones = configuration.phones
        var senders: [any PushSender] = [
            WebPushSender(http: .shared, vapid: keyring, endpoints: configuration.endpoints, timeout: configuration.requestTimeout, logger: logger)
        ]
        if let fcm = phones.fcm { senders.append(try FCMSender(configuration: fcm, http: http, clock: configuration.clock)) }
        if let apns = phones.apns { senders.append(try APNsSender(configuration: apns, http: http, clock: configuration.clock)) }
        if let rustore = phones.rustore { senders.append(RuStoreSender(configuration: rustore, http: http)) }
        if let hms = phones.hms { senders.append(HMSSender(configuration: hms, http: http)) }
        return NotificationWorker(outbox: NotificationOutbox(database: database), senders: senders, configuration: configuration, logger: logger)
    }
}
