/// Puts the messages a node delivers back into `seq` order per chat, whichever way they reach it.
///
/// A node learns of new messages two ways: its own group commits, and other nodes' announcements (PostgreSQL
/// NOTIFY, read back from the table). Either can run ahead of the other — this node's seq 13 may commit a moment
/// after 10–12 committed on another node, whose announcement has not arrived yet. So every message passes one
/// per-chat watermark: the next in line is delivered at once (with any held ones it unblocks), an old one is
/// dropped, and one that skips ahead is held while the caller reads the gap from the table — it is always there,
/// since a `seq` is handed out only after every smaller one of the chat committed.
///
/// A plain state machine; the server keeps it in shards under locks and delivers while holding the chat's lock, so
/// that two deliveries for one chat cannot overtake each other.
public struct ChatSequencer<Payload> {
    private struct ChatState {
        /// Every message up to here was delivered (or skipped).
        var delivered: Int64
        /// Messages that arrived ahead of a gap.
        var held: [Int64: Payload] = [:]
        /// The gap up to here is being read already.
        var requestedThrough: Int64 = 0
    }

    /// The outcome of offering a message: what to deliver now, in order, and which seqs to read from the table.
    public struct Step {
        public var deliver: [Payload] = []
        public var missing: ClosedRange<Int64>?
    }

    private var chats: [Int64: ChatState] = [:]
    private let maximumHeld: Int

    /// - Parameter maximumHeld: messages held per chat before the gap is given up on (delivered past it, so clients
    ///   see it and `sync`): a safety valve if the table cannot be read.
    public init(maximumHeld: Int = 10_000) {
        self.maximumHeld = maximumHeld
    }

    /// The chat's watermark, if this node has delivered anything of it.
    public func delivered(_ chat: Int64) -> Int64? {
        chats[chat]?.delivered
    }

    /// Starts following a chat that new sessions watch, and returns its watermark: the last `seq` delivered before
    /// they joined, which their `ready` announces and after which they receive every message live.
    ///
    /// A chat that sessions on this node watched already keeps its watermark, even where the table is ahead of it
    /// (the node is still reading announcements back): the new sessions get those messages live like everyone else.
    /// A chat nobody here watched starts over at `seq`, the last one the table had — a watermark left from earlier
    /// watchers is stale.
    public mutating func watch(_ chat: Int64, from seq: Int64, alreadyWatched: Bool) -> Int64 {
        if let state = chats[chat], alreadyWatched { return state.delivered }
        chats[chat] = ChatState(delivered: seq)
        return seq
    }

    /// Offers message `seq` of `chat`. A chat with no watermark yet (joined since connecting) starts at this
    /// message.
    public mutating func offer(_ payload: Payload, chat: Int64, seq: Int64) -> Step {
        var state = chats.removeValue(forKey: chat) ?? ChatState(delivered: seq - 1)
        defer { chats[chat] = state }
        var step = Step()
        if seq <= state.delivered || state.held[seq] != nil { return step }
        if seq > state.delivered + 1 {
            state.held[seq] = payload
            if state.held.count > maximumHeld {
                skip(&state, into: &step)
            } else if state.requestedThrough < seq - 1 {
                step.missing = max(state.delivered + 1, state.requestedThrough + 1)...(seq - 1)
                state.requestedThrough = seq - 1
            }
            return step
        }
        step.deliver.append(payload)
        state.delivered = seq
        release(&state, into: &step)
        return step
    }

    /// Gives up on the gap before the first held message (it could not be read): delivers what is held.
    public mutating func skipGap(of chat: Int64) -> [Payload] {
        guard var state = chats.removeValue(forKey: chat) else { return [] }
        defer { chats[chat] = state }
        var step = Step()
        skip(&state, into: &step)
        return step.deliver
    }

    /// The gap before the held messages could not be read for now (the database is failing over): they stay held, and
    /// the next message offered asks for the gap again.
    public mutating func gapUnread(of chat: Int64) {
        guard let delivered = chats[chat]?.delivered else { return }
        chats[chat]?.requestedThrough = delivered
    }

    /// Forgets a chat nobody on this node watches any more.
    public mutating func forget(_ chat: Int64) {
        chats[chat] = nil
    }

    /// The watched chats' watermarks, to catch up from after missed announcements.
    public var watermarks: [(chat: Int64, delivered: Int64)] {
        chats.map { ($0.key, $0.value.delivered) }
    }

    private func release(_ state: inout ChatState, into step: inout Step) {
        while let next = state.held.removeValue(forKey: state.delivered + 1) {
            step.deliver.append(next)
            state.delivered += 1
        }
    }

    private func skip(_ state: inout ChatState, into step: inout Step) {
        guard let first = state.held.keys.min() else { return }
        state.delivered = first - 1
        state.requestedThrough = max(state.requestedThrough, state.delivered)
        release(&state, into: &step)
    }
}
