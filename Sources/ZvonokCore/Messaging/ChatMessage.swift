/// A message as its chat's members see it — in `msg` frames, live or by `sync`, and in history: who sent what, when,
/// and whether it was edited or deleted since (a deleted message keeps its place with empty text).
public struct ChatMessage: Sendable, Equatable {
    public let chatID: Int64
    public let seq: Int64
    public let senderID: Int64
    /// Empty once deleted.
    public let text: String
    /// Its files, in the sender's order; none once deleted.
    public let files: [AttachedFile]
    /// Milliseconds since 1970, UTC.
    public let sentAtMilliseconds: Int64
    /// When the text was last edited, in milliseconds since 1970; nil when never.
    public let editedAtMilliseconds: Int64?
    public let isDeleted: Bool

    public init(
        chatID: Int64, seq: Int64, senderID: Int64, text: String, files: [AttachedFile] = [], sentAtMilliseconds: Int64,
        editedAtMilliseconds: Int64? = nil, isDeleted: Bool = false
    ) {
        self.chatID = chatID
        self.seq = seq
        self.senderID = senderID
        self.text = text
        self.files = files
        self.sentAtMilliseconds = sentAtMilliseconds
        self.editedAtMilliseconds = editedAtMilliseconds
        self.isDeleted = isDeleted
    }
}

extension CommittedMessage {
    /// The message as its chat's members see it: just sent, so neither edited nor deleted.
    public var message: ChatMessage {
        ChatMessage(chatID: chatID, seq: seq, senderID: senderID, text: text, files: files, sentAtMilliseconds: sentAtMilliseconds)
    }
}
