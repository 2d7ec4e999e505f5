import Crypto
import Foundation
import NIOHTTP1
import ZvonokCore
import ZvonokStorage

/// Apple Push Notification service, token-based: `POST /3/device/{token}` (HTTP/2, which the HTTP client negotiates
/// with Apple's servers) with a provider token — an ES256 JWT from the team's `.p8` key, renewed every 50 minutes.
struct APNsSender: PushSender {
    let configuration: PhonePushConfiguration.APNs
    let http: PushHTTP
    private let tokens: AccessTokenCache

    init(configuration: PhonePushConfiguration.APNs, http: PushHTTP, clock: @escaping @Sendable () -> Date) throws {
        self.configuration = configuration
        self.http = http
        let key = try P256.Signing.PrivateKey(pemRepresentation: configuration.privateKey)
        tokens = AccessTokenCache { [configuration] in
            let token = try ES256Token.sign(
                header: ["alg": "ES256", "kid": configuration.keyID],
                claims: ["iss": configuration.teamID, "iat": Int(clock().timeIntervalSince1970)],
                with: key)
            return (token, 50 * 60)
        }
    }

    func service(of delivery: NotificationOutbox.Delivery) -> String? {
        guard case .device(_, .apns, _) = delivery.target else { return nil }
        return "apns"
    }

    func send(_ delivery: NotificationOutbox.Delivery, now: Date) async -> PushOutcome {
        guard case .device(_, _, let token) = delivery.target else { return .rejected }
        let notification = PhoneNotification(delivery)
        var payload: [String: Any] = notification.data
        payload["aps"] = ["alert": ["title": notification.title, "body": notification.body], "sound": "default", "thread-id": "c\(delivery.chatID)"]
        guard let bearer = try? await tokens.token(now: now) else { return .retry }
        return await http.deliver(
            "\(configuration.baseURL)/3/device/\(token)",
            headers: [
                ("authorization", "bearer \(bearer)"), ("apns-topic", configuration.topic), ("apns-push-type", "alert"),
                ("apns-priority", "10"), ("apns-expiration", String(Int(now.timeIntervalSince1970) + 86_400)),
                ("apns-collapse-id", PhoneNotification.collapseKey(delivery)),
            ], json: payload, outcome: Self.outcome)
    }

    /// APNs' documented answers: 410 `Unregistered`, and 400 `BadDeviceToken`, for a token that is gone; 429 and 5xx
    /// later.
    static func outcome(_ answer: PushHTTP.Answer) -> PushOutcome {
        switch answer.status.code {
        case 200: .sent
        case 410: .gone
        case 400 where answer.json["reason"] as? String == "BadDeviceToken": .gone
        case 429, 500..<600: .retry
        default: .rejected
        }
    }
}
