import Foundation
import NIOCore
import ZvonokCore
import ZvonokStorage

/// The WebSocket protocol's frames (contract §5, `docs/protocol.md`): what clients send, decoded leniently enough to
/// answer every bad frame with an `error` frame, and what the server sends, encoded once into a shared buffer.
enum HubFrames {
    /// A frame from a client.
    enum Inbound {
        /// `files` are file ids (`f12`) uploaded to the chat; with them the text may be empty. `urgent`: an admin's
        /// message that notifies at once, through quiet hours.
        case send(chat: Int64, cid: String, text: String, files: [Int64], urgent: Bool)
        case sync(chat: Int64, after: Int64)
        case read(chat: Int64, seq: Int64)
        case edit(chat: Int64, seq: Int64, text: String)
        case delete(chat: Int64, seq: Int64)
        case typing(chat: Int64)
        case ping

        /// The per-person limit the frame counts against; nil for `typing`, which is coalesced instead.
        var limitedKind: FrameKind? {
            switch self {
            case .send: .send
            case .sync: .sync
            case .read: .read
            case .edit: .edit
            case .delete: .delete
            case .ping: .ping
            case .typing: nil
            }
        }
    }

    /// A frame about one chat, encoded once for every recipient. `seq` is the message a `msg` frame carries; events
    /// (edits, deletions, reads, typing) have 0.
    struct ChatFrame: Sendable {
        /// The frame as every recipient's socket takes it.
        let wire: WireFrame
        let chat: Int64
        let seq: Int64

        init(bytes: consuming ByteBuffer, chat: Int64, seq: Int64) {
            self.wire = WireFrame.text(bytes)
            self.chat = chat
            self.seq = seq
        }

        /// The JSON text (for the other nodes).
        var bytes: ByteBuffer { wire.payload }
    }

    /// A client frame that was refused, with the `ref` to answer it with.
    struct Refusal: Error {
        let error: ZvonokError
        let ref: String?
    }

    /// Decodes one text frame, with the `ref` (or `cid`) to answer it with; throws `Refusal` for anything the
    /// protocol does not accept.
    static func decode(_ text: String) throws(Refusal) -> (frame: Inbound, ref: String?) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw Refusal(error: .invalidArgument("a frame is one JSON object"), ref: nil)
        }
        let ref = (object["ref"] as? String) ?? (object["cid"] as? String)
        do throws(ZvonokError) {
            return (try inbound(object), ref)
        } catch {
            throw Refusal(error: error, ref: ref)
        }
    }

    private static func inbound(_ object: [String: Any]) throws(ZvonokError) -> Inbound {
        switch object["type"] as? String {
        case "send":
            guard let cid = object["cid"] as? String else { throw .invalidArgument("a send needs a cid") }
            let files = try files(in: object)
            return .send(
                chat: try chat(in: object), cid: try Validation.clientID(cid), text: try text(in: object, mayBeEmpty: !files.isEmpty), files: files,
                urgent: try urgent(in: object))
        case "sync":
            return .sync(chat: try chat(in: object), after: try seq(in: object, "after", from: 0))
        case "read":
            return .read(chat: try chat(in: object), seq: try seq(in: object, "seq", from: 0))
        case "edit":
            return .edit(chat: try chat(in: object), seq: try seq(in: object, "seq", from: 1), text: try text(in: object))
        case "delete":
            return .delete(chat: try chat(in: object), seq: try seq(in: object, "seq", from: 1))
        case "typing":
            return .typing(chat: try chat(in: object))
        case "ping":
            return .ping
        case let type?:
            throw .invalidArgument("unknown frame type \(type)")
        case nil:
            throw .invalidArgument("a frame needs a type")
        }
    }

    private static func chat(in object: [String: Any]) throws(ZvonokError) -> Int64 {
        guard let chat = (object["chat"] as? String).flatMap({ PublicID.decode(.chat, $0) }) else { throw .invalidArgument("chat must be a chat id") }
        return chat
    }

    private static func seq(in object: [String: Any], _ key: String, from minimum: Int64) throws(ZvonokError) -> Int64 {
        // A JSON true would pass as 1, and a fraction would be truncated: neither is a seq. (`is Bool` cannot
        // tell: Foundation bridges the numbers 0 and 1 to Bool too.)
        guard let number = object[key] as? NSNumber, type(of: number) != booleanType,
            let value = Int64(exactly: number.doubleValue), value >= minimum
        else { throw .invalidArgument("\(key) must be a whole number from \(minimum)") }
        return value
    }

    /// `urgent`: false when left out, else a JSON boolean.
    private static func urgent(in object: [String: Any]) throws(ZvonokError) -> Bool {
        guard let value = object["urgent"] else { return false }
        guard let flag = value as? NSNumber, type(of: flag) == booleanType else { throw .invalidArgument("urgent must be true or false") }
        return flag.boolValue
    }

    /// The class JSONSerialization gives `true` and `false`.
    private static let booleanType = type(of: NSNumber(value: true))

    private static func text(in object: [String: Any], mayBeEmpty: Bool = false) throws(ZvonokError) -> String {
        guard let text = object["text"] as? String ?? (mayBeEmpty && object["text"] == nil ? "" : nil) else {
            throw .invalidArgument("text must be a string")
        }
        return try MessageText.validate(text, mayBeEmpty: mayBeEmpty)
    }

    /// The most file ids a frame may name, whatever the server's limit per message (checked with the chat).
    static let maximumFileIDs = 100

    /// A send's `files`: distinct file ids, none when absent.
    private static func files(in object: [String: Any]) throws(ZvonokError) -> [Int64] {
        guard let value = object["files"] else { return [] }
        guard let list = value as? [Any], list.count <= maximumFileIDs else {
            throw .invalidArgument("files must be a list of at most \(maximumFileIDs) file ids")
        }
        var ids: [Int64] = []
        for item in list {
            guard let id = (item as? String).flatMap({ PublicID.decode(.file, $0) }) else { throw .invalidArgument("files must hold file ids") }
            guard !ids.contains(id) else { throw .invalidArgument("a file is named twice in files") }
            ids.append(id)
        }
        return ids
    }

    // MARK: Server frames

    static func ready(user: Int64, chats: [ChatSummary]) -> ByteBuffer {
        var frame = frame("ready", capacity: 64 + chats.count * 96)
        frame.string("user", PublicID.encode(.person, user))
        frame.objects("chats", chats) { object, chat in
            object.string("id", PublicID.encode(.chat, chat.id))
            object.string("kind", chat.kind.rawValue)
            object.string("title", chat.title)
            object.number("lastSeq", chat.lastSeq)
            object.number("readSeq", chat.readSeq)
        }
        return frame.finish()
    }

    /// `quietUntil`: when the last recipient held by quiet hours gets the notification.
    static func ack(_ message: CommittedMessage, quietUntil: Date? = nil) -> ByteBuffer {
        var frame = frame("ack")
        frame.string("cid", message.cid)
        frame.message(chat: message.chatID, seq: message.seq)
        frame.string("ts", Wire.timestamp(milliseconds: message.sentAtMilliseconds))
        if let quietUntil { frame.string("quietUntil", Wire.timestamp(quietUntil)) }
        return frame.finish()
    }

    /// A message for its chat's members, live or by `sync`: as history shows it, edited or deleted.
    static func msg(_ message: ChatMessage) -> ChatFrame {
        var frame = frame("msg", capacity: 200 + message.text.utf8.count + message.files.count * 200)
        frame.message(chat: message.chatID, seq: message.seq)
        frame.string("from", PublicID.encode(.person, message.senderID))
        frame.string("text", message.text)
        if !message.files.isEmpty { frame.files(message.files) }
        frame.string("ts", Wire.timestamp(milliseconds: message.sentAtMilliseconds))
        if let editedAt = message.editedAtMilliseconds { frame.string("editedAt", Wire.timestamp(milliseconds: editedAt)) }
        if message.isDeleted { frame.bool("deleted", true) }
        return ChatFrame(bytes: frame.finish(), chat: message.chatID, seq: message.seq)
    }

    static func synced(chat: Int64, seq: Int64) -> ByteBuffer {
        var frame = frame("synced")
        frame.string("chat", PublicID.encode(.chat, chat))
        frame.number("seq", seq)
        return frame.finish()
    }

    static func edited(_ change: MessageStore.Change) -> ChatFrame {
        var frame = frame("edited", capacity: 160 + change.text.utf8.count)
        frame.message(chat: change.chatID, seq: change.seq)
        frame.string("text", change.text)
        frame.string("editedAt", Wire.timestamp(change.at))
        return ChatFrame(bytes: frame.finish(), chat: change.chatID, seq: 0)
    }

    static func deleted(_ change: MessageStore.Change) -> ChatFrame {
        var frame = frame("deleted")
        frame.message(chat: change.chatID, seq: change.seq)
        frame.string("deletedAt", Wire.timestamp(change.at))
        return ChatFrame(bytes: frame.finish(), chat: change.chatID, seq: 0)
    }

    static func read(chat: Int64, user: Int64, seq: Int64) -> ChatFrame {
        var frame = frame("read")
        frame.string("chat", PublicID.encode(.chat, chat))
        frame.string("user", PublicID.encode(.person, user))
        frame.number("seq", seq)
        return ChatFrame(bytes: frame.finish(), chat: chat, seq: 0)
    }

    static func typing(chat: Int64, user: Int64) -> ChatFrame {
        var frame = frame("typing")
        frame.string("chat", PublicID.encode(.chat, chat))
        frame.string("user", PublicID.encode(.person, user))
        return ChatFrame(bytes: frame.finish(), chat: chat, seq: 0)
    }

    static let pong = frame("pong").finish()

    static func error(_ error: ZvonokError, ref: String?) -> ByteBuffer {
        var frame = frame("error")
        frame.string("code", error.code.rawValue)
        frame.string("message", error.message)
        if let ref { frame.string("ref", ref) } else { frame.null("ref") }
        return frame.finish()
    }

    private static func frame(_ type: String, capacity: Int = 160) -> JSONObjectWriter {
        var frame = JSONObjectWriter(capacity: capacity)
        frame.string("type", type)
        return frame
    }
}

extension JSONObjectWriter {
    /// A message's `files`: `[{id, name, size, type, width?, height?, preview}]`.
    mutating func files(_ files: [AttachedFile]) {
        objects("files", files) { object, file in
            object.string("id", PublicID.encode(.file, file.id))
            object.string("name", file.name)
            object.number("size", file.size)
            object.string("type", file.type.rawValue)
            if let width = file.width, let height = file.height {
                object.number("width", Int64(width))
                object.number("height", Int64(height))
            }
            object.bool("preview", file.preview)
        }
    }

    /// The fields that name a message: `chat`, `seq` and `id`.
    fileprivate mutating func message(chat: Int64, seq: Int64) {
        string("chat", PublicID.encode(.chat, chat))
        number("seq", seq)
        string("id", Wire.messageID(chat: chat, seq: seq))
    }
}
