import Foundation
import JWTKit
import NIOHTTP1
import ZvonokCore
import ZvonokStorage

/// Firebase Cloud Messaging's HTTP v1 API: `POST /v1/projects/{project}/messages:send` with an OAuth 2.0 token
/// that the service account's key obtains (RFC 7523 JWT bearer grant, RS256, scope `firebase.messaging`).
struct FCMSender: PushSender {
    let configuration: PhonePushConfiguration.FCM
    let http: PushHTTP
    private let tokens: AccessTokenCache

    init(configuration: PhonePushConfiguration.FCM, http: PushHTTP, clock: @escaping @Sendable () -> Date) throws {
        self.configuration = configuration
        self.http = http
        let key = try Insecure.RSA.PrivateKey(pem: configuration.privateKey)
        tokens = AccessTokenCache { [configuration, http] in
            let now = clock()
            let keys = await JWTKeyCollection().add(rsa: key, digestAlgorithm: .sha256)
            let assertion = try await keys.sign(
                GoogleAssertion(
                    iss: configuration.clientEmail, scope: "https://www.googleapis.com/auth/firebase.messaging", aud: configuration.tokenURL,
                    iat: Int(now.timeIntervalSince1970), exp: Int(now.timeIntervalSince1970) + 3600))
            return try await http.accessToken(
                configuration.tokenURL, form: [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion)])
        }
    }

    func service(of delivery: NotificationOutbox.Delivery) -> String? {
        guard case .device(_, .fcm, _) = delivery.target else { return nil }
        return "fcm"
    }

    func send(_ delivery: NotificationOutbox.Delivery, now: Date) async -> PushOutcome {
        guard case .device(_, _, let token) = delivery.target else { return .rejected }
        let notification = PhoneNotification(delivery)
        let message: [String: Any] = [
            "token": token,
            "notification": ["title": notification.title, "body": notification.body],
            "data": notification.data,
            "android": ["collapse_key": PhoneNotification.collapseKey(delivery), "priority": "HIGH"],
            "apns": ["headers": ["apns-collapse-id": PhoneNotification.collapseKey(delivery)]],
        ]
        guard let bearer = try? await tokens.token(now: now) else { return .retry }
        return await http.deliver(
            "\(configuration.baseURL)/v1/projects/\(configuration.projectID)/messages:send",
            headers: [("Authorization", "Bearer \(bearer)")], json: ["message": message], outcome: Self.outcome)
    }

    /// FCM's documented errors: `UNREGISTERED` (404) for a token that is gone; 429 and 5xx later.
    static func outcome(_ answer: PushHTTP.Answer) -> PushOutcome {
        let error = answer.json["error"] as? [String: Any]
        let codes = ((error?["details"] as? [[String: Any]]) ?? []).compactMap { $0["errorCode"] as? String }
        switch answer.status.code {
        case 200: return .sent
        case _ where codes.contains("UNREGISTERED"), 404: return .gone
        case 429, 500..<600: return .retry
        default: return .rejected
        }
    }
}

/// The service account's signed request for an access token (Google's OAuth 2.0 for server-to-server applications).
struct GoogleAssertion: JWTPayload {
    let iss: String
    let scope: String
    let aud: String
    let iat: Int
    let exp: Int

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
