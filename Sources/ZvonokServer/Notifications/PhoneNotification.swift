import Foundation
import ZvonokStorage

/// What a phone notification says: the chat, the sender and how many messages — never the text, which the platform's
/// push service could read.
struct PhoneNotification {
    let title: String
    let body: String
    /// For the app: which chat to open, at which message.
    let data: [String: String]

    init(_ delivery: NotificationOutbox.Delivery) {
        title = delivery.chatTitle
        body = "\(delivery.senderName): \(Self.newMessages(delivery.count))"
        data = ["chat": "c\(delivery.chatID)", "seq": String(delivery.seq), "count": String(delivery.count)]
    }

    /// «новое сообщение», «3 новых сообщения», «5 новых сообщений».
    static func newMessages(_ count: Int) -> String {
        guard count > 1 else { return "новое сообщение" }
        let (tens, ones) = (count % 100 / 10, count % 10)
        let noun = tens != 1 && (2...4).contains(ones) ? "сообщения" : "сообщений"
        return "\(count) новых \(noun)"
    }

    /// The idempotency key: a copy sent again replaces the first while it waits at the service.
    static func collapseKey(_ delivery: NotificationOutbox.Delivery) -> String { "c\(delivery.chatID)-\(delivery.seq)" }
}
