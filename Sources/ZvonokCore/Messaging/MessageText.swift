/// Rules for message text: the contract's limit, and what counts for the rating.
public enum MessageText {
    /// Text holds at most 4,096 characters (contract §5).
    public static let maximumLength = 4096

    /// The text, checked: 1 to 4,096 characters (or none when `mayBeEmpty`: a message of files), storable.
    public static func validate(_ text: String, mayBeEmpty: Bool = false) throws(ZvonokError) -> String {
        guard !text.isEmpty || mayBeEmpty else { throw .invalidArgument("text is empty") }
        guard text.count <= maximumLength else { throw .invalidArgument("text is longer than \(maximumLength) characters") }
        return try Validation.storable(text, field: "text")
    }

    /// Whether a message counts for the weekly rating: its text holds at least one letter or digit, so emoji-,
    /// sticker- and punctuation-only messages are delivered but not counted (contract §6).
    public static func isCounted(_ text: String) -> Bool {
        text.unicodeScalars.contains { scalar in
            let properties = scalar.properties
            return properties.isAlphabetic || properties.numericType != nil
        }
    }
}

/// A message waiting for the group commit that makes it durable.
public struct PendingMessage: Sendable, Equatable {
    public let chatID: Int64
    public let senderID: Int64
    /// The client's id for the send; `(senderID, cid)` makes one message however often it is retried.
    public let cid: String
    /// Empty when the message carries files only.
    public let text: String
    /// The files it carries, in the sender's order, checked as the sender's to attach (`FileStore.attachable`).
    public let files: [AttachedFile]

    public init(chatID: Int64, senderID: Int64, cid: String, text: String, files: [AttachedFile] = []) {
        self.chatID = chatID
        self.senderID = senderID
        self.cid = cid
        self.text = text
        self.files = files
    }

    /// Whether it counts for the weekly rating: a message with a file counts like one with a letter or digit
    /// (docs/rating.md).
    public var isCounted: Bool { !files.isEmpty || MessageText.isCounted(text) }
}

/// A committed message: what `ack` and `msg` frames carry.
public struct CommittedMessage: Sendable, Equatable {
    public let chatID: Int64
    public let seq: Int64
    public let senderID: Int64
    public let cid: String
    public let text: String
    public let files: [AttachedFile]
    /// Milliseconds since 1970, UTC.
    public let sentAtMilliseconds: Int64
    /// False when the `cid` had been used before: the original message is returned and must not be delivered again.
    public let isNew: Bool

    public init(
        chatID: Int64, seq: Int64, senderID: Int64, cid: String, text: String, files: [AttachedFile] = [], sentAtMilliseconds: Int64, isNew: Bool
    ) {
        self.chatID = chatID
        self.seq = seq
        self.senderID = senderID
        self.cid = cid
        self.text = text
        self.files = files
        self.sentAtMilliseconds = sentAtMilliseconds
        self.isNew = isNew
    }
}
