import Foundation
import NIOCore
import ZvonokCore

/// The WebSocket protocol's frames (contract §5, `docs/protocol.md`): what clients send, decoded leniently enough to
/// answer every bad frame with an `error` frame, and what the server sends, encoded once into a shared buffer.
enum HubFrames {
    /// A frame from a client.
    enum Inbound {
        case send(chat: Int64, cid: String, text: String)
        case ping
    }

    /// A client frame that was refused, with the `ref` to answer it with.
    struct Refusal: Error {
        let error: ZvonokError
        let ref: String?
    }

    /// Decodes one text frame; throws `Refusal` for anything the protocol does not accept.
    static func decode(_ text: String) throws(Refusal) -> Inbound {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw Refusal(error: .invalidArgument("a frame is one JSON object"), ref: nil)
        }
        let ref = (object["ref"] as? String) ?? (object["cid"] as? String)
        do throws(ZvonokError) {
            switch object["type"] as? String {
            case "send":
                guard let chat = (object["chat"] as? String).flatMap({ PublicID.decode(.chat, $0) }) else { throw .invalidArgument("chat must be a chat id") }
                guard let cid = object["cid"] as? String, (1...100).contains(cid.count) else { throw .invalidArgument("cid must be 1 to 100 characters") }
                guard let text = object["text"] as? String else { throw .invalidArgument("text must be a string") }
                return .send(chat: chat, cid: cid, text: try MessageText.validate(text))
            case "ping":
                return .ping
            case let type?:
                throw .invalidArgument("unknown frame type \(type)")
            case nil:
                throw .invalidArgument("a frame needs a type")
            }
        } catch {
            throw Refusal(error: error, ref: ref)
        }
    }

    // MARK: Server frames

    static func ready(user: Int64, chats: [ChatSummary]) -> ByteBuffer {
        encode([
            "type": "ready", "user": PublicID.encode(.person, user),
            "chats": chats.map { ["id": PublicID.encode(.chat, $0.id), "kind": $0.kind.rawValue, "title": $0.title, "lastSeq": $0.lastSeq, "readSeq": $0.readSeq] },
        ])
    }

    static func ack(_ message: CommittedMessage) -> ByteBuffer {
        encode(["type": "ack", "cid": message.cid, "chat": PublicID.encode(.chat, message.chatID), "seq": message.seq,
                "id": Wire.messageID(chat: message.chatID, seq: message.seq), "ts": timestamp(message.sentAtMilliseconds)])
    }

    static func msg(_ message: CommittedMessage) -> ByteBuffer {
        encode(["type": "msg", "chat": PublicID.encode(.chat, message.chatID), "seq": message.seq,
                "id": Wire.messageID(chat: message.chatID, seq: message.seq), "from": PublicID.encode(.person, message.senderID),
                "text": message.text, "ts": timestamp(message.sentAtMilliseconds)])
    }

    static let pong = encode(["type": "pong"])

    static func error(_ error: ZvonokError, ref: String?) -> ByteBuffer {
        encode(["type": "error", "code": error.code.rawValue, "message": error.message, "ref": ref ?? NSNull()])
    }

    private static func timestamp(_ milliseconds: Int64) -> String {
        Wire.timestamp(Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    private static func encode(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8))
    }
}
