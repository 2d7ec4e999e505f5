import Foundation
import NIOHTTP1
import ZvonokCore
import ZvonokStorage

/// RuStore push notifications: `POST /v1/projects/{project}/messages:send` with the project's service token.
struct RuStoreSender: PushSender {
    let configuration: PhonePushConfiguration.RuStore
    let http: PushHTTP

    func service(of delivery: NotificationOutbox.Delivery) -> String? {
        guard case .device(_, .rustore, _) = delivery.target else { return nil }
        return "rustore"
    }

    func send(_ delivery: NotificationOutbox.Delivery, now: Date) async -> PushOutcome {
        guard case .device(_, _, let token) = delivery.target else { return .rejected }
        let notification = PhoneNotification(delivery)
        let message: [String: Any] = [
            "token": token, "data": notification.data,
            "notification": ["title": notification.title, "body": notification.body],
            "android": ["ttl": "86400s", "notification": ["title": notification.title, "body": notification.body]],
        ]
        return await http.deliver(
            "\(configuration.baseURL)/v1/projects/\(configuration.projectID)/messages:send",
            headers: [("Authorization", "Bearer \(configuration.serviceToken)")], json: ["message": message], outcome: Self.outcome)
    }

    /// RuStore's documented errors follow Google's: 404 `NOT_FOUND` for a push token that is gone; 429 and 5xx later.
    static func outcome(_ answer: PushHTTP.Answer) -> PushOutcome {
        switch answer.status.code {
        case 200: .sent
        case 404: .gone
        case 429, 500..<600: .retry
        default: .rejected
        }
    }
}
