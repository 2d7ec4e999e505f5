/// What one node tells the others on the cluster channel (`ClusterRelay`), and its text form in NOTIFY payloads:
/// `kind|node|body`, the kind one letter. Lists (message ranges, people, ended sessions) are packed into as few
/// payloads as fit under PostgreSQL's limit; one item too long for any payload (an event frame with a long text) is
/// left for the caller to keep in the table and announce as `.stored`.
enum RelayMessage: Equatable, Sendable {
    /// The sending node's own heartbeat: it proves the node's listener still hears the channel.
    case heartbeat
    /// New messages, as seq ranges per chat, to read back from the table.
    case messages([ChatRange])
    /// An event frame (edited, deleted, read, typing) for a chat's connected members.
    case chatEvent(chat: Int64, frame: String)
    /// An event frame for one person's connections.
    case personEvent(person: Int64, frame: String)
    /// People whose chats changed, to read again.
    case membershipChanged([Int64])
    /// Sessions that ended: every session of a person (no token), or one token's.
    case sessionsEnded([EndedSession])
    /// A payload too long for NOTIFY, kept in `relay_payloads` under this id.
    case stored(Int64)

    /// Messages `from...through` of a chat.
    struct ChatRange: Equatable, Sendable {
        let chat: Int64
        let from: Int64
        let through: Int64
    }

    /// A person's sessions that ended: all of them when `token` is nil.
    struct EndedSession: Equatable, Sendable {
        let person: Int64
        let token: Int64?
    }

    /// A message with the node that sent it, as read from a payload.
    struct Received: Equatable, Sendable {
        let node: String
        let message: RelayMessage
    }

    // MARK: Encoding

    /// The payloads that carry this message from `node`, none over `maximum` UTF-8 bytes, and the payloads of items
    /// too long to fit any (each whole, for the caller to store).
    func payloads(from node: String, maximum: Int) -> (fitting: [String], tooLong: [String]) {
        let head = "\(kind)|\(node)|"
        var fitting: [String] = [], tooLong: [String] = []
        var current = ""
        for item in items {
            guard head.utf8.count + item.utf8.count <= maximum else {
                tooLong.append(head + item)
                continue
            }
            if !current.isEmpty, head.utf8.count + current.utf8.count + 1 + item.utf8.count > maximum {
                fitting.append(head + current)
                current = ""
            }
            current += current.isEmpty ? item : "," + item
        }
        if !current.isEmpty || (items.isEmpty && self == .heartbeat) { fitting.append(head + current) }
        return (fitting, tooLong)
    }

    private var kind: Character {
        switch self {
        case .heartbeat: "h"
        case .messages: "m"
        case .chatEvent: "e"
        case .personEvent: "p"
        case .membershipChanged: "k"
        case .sessionsEnded: "r"
        case .stored: "b"
        }
    }

    /// The body as items; those of a list are joined with commas (no item holds one), an event is one item.
    private var items: [String] {
        switch self {
        case .heartbeat: []
        case .messages(let ranges): ranges.map { "\($0.chat):\($0.from)-\($0.through)" }
        case .chatEvent(let chat, let frame): ["\(chat)|\(frame)"]
        case .personEvent(let person, let frame): ["\(person)|\(frame)"]
        case .membershipChanged(let people): people.map(String.init)
        case .sessionsEnded(let sessions): sessions.map { session in session.token.map { "\(session.person):\($0)" } ?? "\(session.person)" }
        case .stored(let id): ["\(id)"]
        }
    }

    // MARK: Decoding

    /// The message a payload carries, or nil for one this version cannot read (a node of another version, say).
    static func decode(_ payload: String) -> Received? {
        let parts = payload.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 1, let kind = parts[0].first else { return nil }
        let body = parts[2]
        let message: RelayMessage?
        switch kind {
        case "h": message = .heartbeat
        case "m": message = list(body, ChatRange.init).map(RelayMessage.messages)
        case "e": message = event(body).map { .chatEvent(chat: $0.0, frame: $0.1) }
        case "p": message = event(body).map { .personEvent(person: $0.0, frame: $0.1) }
        case "k": message = list(body) { Int64($0) }.map(RelayMessage.membershipChanged)
        case "r": message = list(body, EndedSession.init).map(RelayMessage.sessionsEnded)
        case "b": message = Int64(body).map(RelayMessage.stored)
        default: message = nil
        }
        return message.map { Received(node: String(parts[1]), message: $0) }
    }

    /// Comma-separated items, each read by `item`; nil when any cannot be read.
    private static func list<Item>(_ body: Substring, _ item: (Substring) -> Item?) -> [Item]? {
        var items: [Item] = []
        for text in body.split(separator: ",") {
            guard let read = item(text) else { return nil }
            items.append(read)
        }
        return items
    }

    /// `target|frame`.
    private static func event(_ body: Substring) -> (Int64, String)? {
        guard let bar = body.firstIndex(of: "|"), let target = Int64(body[..<bar]) else { return nil }
        return (target, String(body[body.index(after: bar)...]))
    }
}

extension RelayMessage.ChatRange {
    /// `chat:from-through`.
    init?(_ text: Substring) {
        let parts = text.split(whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 3, let chat = Int64(parts[0]), let from = Int64(parts[1]), let through = Int64(parts[2]) else { return nil }
        self.init(chat: chat, from: from, through: through)
    }
}

extension RelayMessage.EndedSession {
    /// `person` or `person:token`.
    init?(_ text: Substring) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let person = Int64(parts[0]) else { return nil }
        if parts.count == 2 {
            guard let token = Int64(parts[1]) else { return nil }
            self.init(person: person, token: token)
        } else {
            self.init(person: person, token: nil)
        }
    }
}
