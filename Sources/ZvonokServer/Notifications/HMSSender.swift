import Foundation
import NIOHTTP1
import ZvonokCore
import ZvonokStorage

/// Huawei Push Kit: `POST /v1/{appId}/messages:send` with an OAuth 2.0 token of the app's client credentials.
struct HMSSender: PushSender {
    let configuration: PhonePushConfiguration.HMS
    let http: PushHTTP
    private let tokens: AccessTokenCache

    init(configuration: PhonePushConfiguration.HMS, http: PushHTTP) {
        self.configuration = configuration
        self.http = http
        tokens = AccessTokenCache { [configuration, http] in
            try await http.accessToken(
                configuration.tokenURL,
                form: [("grant_type", "client_credentials"), ("client_id", configuration.appID), ("client_secret", configuration.clientSecret)])
        }
    }

    func service(of delivery: NotificationOutbox.Delivery) -> String? {
        guard case .device(_, .hms, _) = delivery.target else { return nil }
        return "hms"
    }

    func send(_ delivery: NotificationOutbox.Delivery, now: Date) async -> PushOutcome {
        guard case .device(_, _, let token) = delivery.target else { return .rejected }
        let notification = PhoneNotification(delivery)
        let data = String(decoding: (try? JSONSerialization.data(withJSONObject: notification.data, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
        let message: [String: Any] = [
            "token": [token], "data": data,
            "android": [
                "urgency": "HIGH", "ttl": "86400",
                "notification": ["title": notification.title, "body": notification.body, "click_action": ["type": 3]],
            ],
        ]
        guard let bearer = try? await tokens.token(now: now) else { return .retry }
        return await http.deliver(
            "\(configuration.baseURL)/v1/\(configuration.appID)/messages:send",
            headers: [("Authorization", "Bearer \(bearer)")], json: ["validate_only": false, "message": message], outcome: Self.outcome)
    }

    /// Push Kit answers 200 with a result code: 80000000 success, 80300007 every token invalid (gone); an expired
    /// OAuth token (80200003) and 5xx later.
    static func outcome(_ answer: PushHTTP.Answer) -> PushOutcome {
        switch (answer.status.code, answer.json["code"] as? String) {
        case (200, "80000000"): .sent
        case (_, "80300007"): .gone
        case (_, "80200003"), (429, _), (500..<600, _): .retry
        default: .rejected
        }
    }
}
