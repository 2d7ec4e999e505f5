/// What one person has seen of one chat, and the rules it holds the server to (contract §5, design invariant 3):
/// per chat, `seq` rises by exactly 1, each message exactly once, across reconnects and `sync`.
///
/// A plain value with no I/O, so the rules are tested on their own. During a `sync` the frames that arrived live
/// before the server started the sync may come again from the sync: those repeats are expected and not counted.
public struct ChatSequence: Sendable {
    /// What a frame turned out to be.
    public enum Outcome: Equatable, Sendable {
        /// The next message, in order.
        case accepted
        /// A seq already seen, not explained by a sync.
        case duplicate
        /// A seq that was skipped earlier and arrives late.
        case reordered
        /// A seq beyond the next one: `missing` seqs were skipped. The caller syncs to recover.
        case gap(missing: Int)
        /// Held aside while a sync of this chat runs.
        case held
        /// A repeat that a sync explains (the live copy came first, or the history fallback overlapped the live stream).
        case expectedRepeat
    }

    /// The highest seq up to which everything was seen.
    public private(set) var seen: Int
    /// Whether a sync of this chat is running.
    public private(set) var syncing = false
    /// Live frames that arrived while syncing, above `seen`.
    private var held: Set<Int> = []
    /// Live frames taken in order after the sync was sent but before its history began: the sync, asked for
    /// everything after the old `seen`, sends each of them once more.
    private var passedBeforeSync: Set<Int> = []
    /// The sync's history has begun arriving (a repeat was seen).
    private var replaying = false
    /// Seqs skipped by a gap and not seen since.
    public private(set) var missing: Set<Int> = []
    /// Live repeats up to this seq are expected (after catching up through the history endpoint instead of `sync`).
    private var tolerateUpTo = 0

    public init(seen: Int) {
        self.seen = seen
    }

    /// A `msg` frame.
    public mutating func receive(_ seq: Int) -> Outcome {
        if seq == seen + 1 {
            seen = seq
            // A frame held live and now delivered by the sync: that copy counts, the held one is consumed.
            held.remove(seq)
            if syncing, !replaying { passedBeforeSync.insert(seq) }
            return .accepted
        }
        if seq <= seen {
            if missing.remove(seq) != nil { return .reordered }
            if syncing, passedBeforeSync.remove(seq) != nil {
                replaying = true
                return .expectedRepeat
            }
            if seq <= tolerateUpTo { return .expectedRepeat }
            return .duplicate
        }
        if syncing {
            held.insert(seq)
            return .held
        }
        let skipped = seq - seen - 1
        for lost in (seen + 1)..<seq where missing.count < 10_000 { missing.insert(lost) }
        seen = seq
        return .gap(missing: skipped)
    }

    /// A `sync` was sent for messages after `seen`.
    public mutating func beginSync() {
        syncing = true
        replaying = false
        passedBeforeSync.removeAll()
    }

    /// The connection closed while syncing: what was held will come again from the next sync.
    public mutating func abortSync() {
        syncing = false
        held.removeAll()
        passedBeforeSync.removeAll()
    }

    /// The sync ended at `last` (the `synced` frame's seq, or the last seq read from history). `fromHistory` marks a
    /// catch-up through `GET /v1/chats/{id}/messages`, which cannot hold live frames aside as the server's `sync`
    /// does, so live repeats up to `last` are expected afterwards. Returns how many seqs the sync left out between
    /// what it delivered and the live frames held meanwhile (a gap; 0 when all is well).
    @discardableResult
    public mutating func endSync(last: Int, fromHistory: Bool) -> Int {
        syncing = false
        passedBeforeSync.removeAll()
        if fromHistory { tolerateUpTo = max(tolerateUpTo, last) }
        var skipped = 0
        for seq in held.sorted() where seq > seen {
            if seq > seen + 1 {
                skipped += seq - seen - 1
                for lost in (seen + 1)..<seq where missing.count < 10_000 { missing.insert(lost) }
            }
            seen = seq
        }
        held.removeAll()
        return skipped
    }

    /// Whether everything up to `seq` has been seen (nothing skipped still missing).
    public func hasSeen(upTo seq: Int) -> Bool {
        seen >= seq && !missing.contains(where: { $0 <= seq })
    }
}
