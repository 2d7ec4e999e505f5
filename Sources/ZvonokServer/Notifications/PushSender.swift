import Foundation
import ZvonokStorage

/// One push service's client: sends a notification as that service's documented HTTP API asks, and says what came of
/// it. The notification worker bounds each service's requests in flight and acts on the outcome.
protocol PushSender: Sendable {
    /// Names the service a delivery goes to, for the bound on requests in flight (a Web Push endpoint's host, a phone
    /// platform); nil when this sender does not take the delivery.
    func service(of delivery: NotificationOutbox.Delivery) -> String?
    func send(_ delivery: NotificationOutbox.Delivery, now: Date) async -> PushOutcome
}

/// What a push service made of a notification.
enum PushOutcome: Sendable, Equatable {
    /// Accepted for delivery.
    case sent
    /// Failed for now (unreachable, overloaded, 5xx, 429): tried again later.
    case retry
    /// The subscription or device no longer exists: it is deleted.
    case gone
    /// Refused for good (the request itself was wrong): not tried again.
    case rejected
}

/// What a notification says, built once for every channel: who wrote in which chat, how many messages, and the text
/// only for channels that are encrypted end to end.
struct NotificationPayload: Encodable {
    let chat: String
    let title: String
    let from: String
    let count: Int
    let seq: Int64
    let text: String?

    /// Text beyond this many UTF-8 bytes is cut, so that an encrypted Web Push payload stays within 4,096 bytes.
    static let maximumTextBytes = 3000

    init(_ delivery: NotificationOutbox.Delivery, includingText: Bool) {
        chat = "c\(delivery.chatID)"
        title = delivery.chatTitle
        from = delivery.senderName
        count = delivery.count
        seq = delivery.seq
        text = includingText ? Self.cut(delivery.text) : nil
    }

    /// The JSON as sent.
    func encoded() -> Data {
        (try? JSONEncoder().encode(self)) ?? Data("{}".utf8)
    }

    private static func cut(_ text: String) -> String {
        guard text.utf8.count > maximumTextBytes else { return text }
        var cut = ""
        var bytes = 0
        for character in text {
            bytes += character.utf8.count
            guard bytes <= maximumTextBytes - 3 else { break }
            cut.append(character)
        }
        return cut + "…"
    }
}
