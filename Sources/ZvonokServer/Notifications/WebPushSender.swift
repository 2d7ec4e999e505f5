import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ZvonokCore
import ZvonokStorage

/// Delivers to browsers (RFC 8030): the payload encrypted for the subscription (RFC 8291), the request signed with
/// the server's VAPID key (RFC 8292).
struct WebPushSender: PushSender {
    let http: HTTPClient
    let vapid: VAPIDKeyring
    let endpoints: PushEndpointPolicy
    let timeout: Duration
    let logger: Logger

    func service(of delivery: NotificationOutbox.Delivery) -> String? {
        guard case .web(_, let endpoint, _, _) = delivery.target else { return nil }
        return URL(string: endpoint)?.host ?? endpoint
    }

    func send(_ delivery: NotificationOutbox.Delivery, now: Date) async -> PushOutcome {
        guard case .web(_, let endpoint, let p256dh, let auth) = delivery.target else { return .rejected }
        let url: URL
        do {
            // Checked again: the allow-list may have shrunk since the subscription was made. Only this refusal
            // forgets the subscription; any other failure (the key's database read among them) is tried again.
            url = try endpoints.check(endpoint)
        } catch {
            logger.warning("A push endpoint is no longer allowed", metadata: ["error": "\(error)"])
            return .gone
        }
        do {
            let body = try WebPushEncryption(p256dh: p256dh, auth: auth).encrypt(NotificationPayload(delivery, includingText: true).encoded())
            var request = HTTPClientRequest(url: endpoint)
            request.method = .POST
            request.headers.add(name: "Authorization", value: try await vapid.signer().authorization(for: url, now: now))
            request.headers.add(name: "TTL", value: "86400")
            request.headers.add(name: "Content-Encoding", value: "aes128gcm")
            request.headers.add(name: "Content-Type", value: "application/octet-stream")
            request.headers.add(name: "Urgency", value: "high")
            // The idempotency key: a copy sent again after a crash replaces the first while it waits at the service.
            request.headers.add(name: "Topic", value: "c\(delivery.chatID)-\(delivery.seq)")
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await http.execute(request, timeout: .init(timeout))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return Self.outcome(response.status)
        } catch {
            logger.info("Web Push failed", metadata: ["host": "\(url.host ?? "")", "error": "\(type(of: error))"])
            return .retry
        }
    }

    /// RFC 8030 §5 and the services' documentation: 201 accepted; 404 and 410 the subscription expired; 429 and 5xx
    /// later; any other refusal is final.
    static func outcome(_ status: HTTPResponseStatus) -> PushOutcome {
        switch status.code {
        case 200..<300: .sent
        case 404, 410: .gone
        case 429, 500..<600: .retry
        default: .rejected
        }
    }
}
