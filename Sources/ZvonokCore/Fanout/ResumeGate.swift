/// Joins a chat's history, read back for a `sync`, to its live stream on one connection without a gap or a
/// duplicate.
///
/// The connection follows the chat live all along. While a sync of the chat reads history, live frames of that chat
/// are held aside; when the history is sent, the held frames are released, less the messages the history already
/// carried, and from then on live messages at or below the last synced `seq` are dropped (a message committed
/// before the read but fanned out after it arrives both ways). Events (`seq` 0: edits, reads, typing) are never
/// dropped, only held.
///
/// A plain state machine: the server keeps one per connection under the same lock as the outbound queue.
public struct ResumeGate<Payload> {
    private enum ChatState {
        case holding([(seq: Int64, payload: Payload)])
        case floor(Int64)
    }

    /// What to do with a live frame.
    public enum Verdict: Equatable {
        case deliver
        /// Kept until the sync ends.
        case held
        /// Already sent by the sync.
        case drop
        /// More frames held than the bound: the connection must be closed as too slow.
        case overflow
    }

    private var chats: [Int64: ChatState] = [:]
    private let maximumHeld: Int

    public init(maximumHeld: Int) {
        self.maximumHeld = maximumHeld
    }

    /// True when no chat is syncing or just synced: every live frame is delivered as is.
    public var isOpen: Bool { chats.isEmpty }

    /// Starts holding the chat's live frames; false if a sync of the chat is already running.
    public mutating func begin(_ chat: Int64) -> Bool {
        if case .holding = chats[chat] { return false }
        chats[chat] = .holding([])
        return true
    }

    /// Decides about a live frame of `chat` (`seq` 0 for events).
    public mutating func admit(_ payload: Payload, chat: Int64, seq: Int64) -> Verdict {
        switch chats[chat] {
        case nil:
            return .deliver
        case .holding(var held):
            guard held.count < maximumHeld else { return .overflow }
            chats[chat] = nil  // Drop the reference while appending, so the array is not copied.
            held.append((seq, payload))
            chats[chat] = .holding(held)
            return .held
        case .floor(let floor):
            if seq == 0 { return .deliver }
            if seq <= floor { return .drop }
            // Live messages arrive in seq order: once past the floor, nothing more can repeat the sync.
            chats[chat] = nil
            return .deliver
        }
    }

    /// Ends the sync of `chat`, whose history was sent up to `last`: returns the held frames to send now, in order.
    public mutating func finish(_ chat: Int64, through last: Int64) -> [Payload] {
        guard case .holding(let held) = chats[chat] else { return [] }
        chats[chat] = .floor(last)
        var released: [Payload] = []
        for frame in held where frame.seq == 0 || frame.seq > last {
            released.append(frame.payload)
            if frame.seq > last { chats[chat] = nil }
        }
        return released
    }

    /// Abandons the sync of `chat` (the history could not be read): every held frame is released.
    public mutating func cancel(_ chat: Int64) -> [Payload] {
        guard case .holding(let held) = chats[chat] else { return [] }
        chats[chat] = nil
        return held.map(\.payload)
    }
}
