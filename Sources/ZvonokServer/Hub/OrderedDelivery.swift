import Logging
import NIOCore
import Synchronization
import ZvonokCore
import ZvonokStorage

/// Delivery to this node's connections in `seq` order, whichever way a message comes: this node's own group commits,
/// other nodes' announcements, or the table when an announcement never came.
///
/// Each chat's messages pass a per-chat watermark (`ChatSequencer`), so each chat reaches its connections in `seq`
/// order with no gap: a message that skips ahead waits while the gap is read from the table. Messages of chats nobody
/// here watches are not delivered and not read. The watermarks sit in 64 shards, each behind its own lock; a
/// registration takes several, always in ascending order.
final class OrderedDelivery: Sendable {
    private let fanout: FanoutHub<HubConnection>
    private let messages: MessageStore
    private let logger: Logger
    private let shards: [SequencerShard]

    init(fanout: FanoutHub<HubConnection>, messages: MessageStore, logger: Logger) {
        self.fanout = fanout
        self.messages = messages
        self.logger = logger
        self.shards = (0..<64).map { _ in SequencerShard() }
    }

    /// Registers a connection in the fan-out core for its person's chats and returns, per chat, the last `seq` its
    /// `ready` must announce (nil when the person has `limit` connections here already).
    ///
    /// That is the chat's watermark on this node, read while the chats' sequencer locks are held around the
    /// registration, so no delivery slips between the two: the connection gets exactly the messages after what
    /// `ready` announces, live, even when this node is behind the table reading announcements back. Locks are taken
    /// in ascending shard order, as nowhere else takes more than one.
    func register(_ connection: HubConnection, chats: [ChatSummary], version: Int64, limit: Int) -> [Int64: Int64]? {
        let byShard = Dictionary(grouping: chats) { shardIndex($0.id) }
        var announced: [Int64: Int64] = [:]
        let registered = withShardsLocked(
            byShard.keys.sorted()[...],
            each: { index, sequencer in
                for chat in byShard[index, default: []] {
                    announced[chat.id] = sequencer.watch(chat.id, from: chat.lastSeq, alreadyWatched: fanout.isWatched(chat.id))
                }
            },
            then: {
                fanout.register(connection, person: connection.personID, chats: chats.map(\.id), version: version, limit: limit)
            })
        return registered ? announced : nil
    }

    /// Holds the given shards' locks (ascending), running `each` on every shard's sequencer as its lock is taken and
    /// `then` once all are held.
    private func withShardsLocked(
        _ indices: ArraySlice<Int>, each: (Int, inout ChatSequencer<HubFrames.ChatFrame>) -> Void, then: () -> Bool
    ) -> Bool {
        guard let index = indices.first else { return then() }
        return shards[index].state.withLock { sequencer in
            each(index, &sequencer)
            return withShardsLocked(indices.dropFirst(), each: each, then: then)
        }
    }

    /// Delivers what the table holds beyond this node's watermarks of `chats` — for a new connection, messages
    /// committed while it registered, which no delivery brought yet, so that they do not wait for the chat's next
    /// message; for `sweep`, announcements that never came.
    func catchUp(_ chats: [Int64]) async {
        do {
            let last = try await messages.lastSeqs(of: chats)
            await readBack(last.compactMap { behind(chat: $0.key, from: 1, through: $0.value) })
        } catch {
            logger.warning("Could not read chats' new messages back", metadata: ["error": "\(error)"])
        }
    }

    /// The part of `from...through` of a watched chat that this node has not delivered yet.
    private func behind(chat: Int64, from: Int64, through: Int64) -> (chat: Int64, after: Int64, through: Int64)? {
        guard fanout.isWatched(chat) else { return nil }
        let delivered = shard(chat).state.withLock { $0.delivered(chat) }
        if let delivered, delivered >= through { return nil }
        return (chat, max(from - 1, delivered ?? from - 1), through)
    }

    /// This node's committed batch, delivered through the watermarks. Returns the number of deliveries and the seq
    /// ranges of its new messages, per chat, for the other nodes.
    func deliverCommitted(_ batch: [CommittedMessage]) async -> (deliveries: Int, ranges: [RelayMessage.ChatRange]) {
        var delivered = 0
        var ranges: [Int64: ClosedRange<Int64>] = [:]
        for message in batch where message.isNew {
            delivered += await offer(HubFrames.msg(message.message))
            let range = ranges[message.chatID]
            ranges[message.chatID] = min(range?.lowerBound ?? message.seq, message.seq)...max(range?.upperBound ?? message.seq, message.seq)
        }
        let announced = ranges.sorted { $0.key < $1.key }.map {
            RelayMessage.ChatRange(chat: $0.key, from: $0.value.lowerBound, through: $0.value.upperBound)
        }
        return (delivered, announced)
    }

    /// Offers one message to its chat's watermark and delivers what that releases; reads a gap from the table.
    @discardableResult
    private func offer(_ frame: HubFrames.ChatFrame) async -> Int {
        let (delivered, missing) = shard(frame.chat).state.withLock { sequencer -> (Int, ClosedRange<Int64>?) in
            // Under the lock: a registration holds it while it starts the chat's watermark.
            guard fanout.isWatched(frame.chat) else {
                sequencer.forget(frame.chat)
                return (0, nil)
            }
            let step = sequencer.offer(frame, chat: frame.chat, seq: frame.seq)
            return (step.deliver.reduce(0) { $0 + fanout.deliver($1, to: frame.chat) }, step.missing)
        }
        guard let missing else { return delivered }
        return delivered + (await readGap(missing, of: frame.chat))
    }

    /// Reads missing messages from the table and offers them. While the database is unavailable (a failover, say) the
    /// messages after the gap stay held: the chat's next message asks for the gap again, and the catch-up after the
    /// listener reconnects (or the next sweep) reads it. Any other failure gives the gap up (clients see it and
    /// `sync`).
    private func readGap(_ missing: ClosedRange<Int64>, of chat: Int64) async -> Int {
        do {
            var delivered = 0
            for message in try await messages.messages(in: [(chat, missing.lowerBound - 1, missing.upperBound)]) {
                delivered += await offer(HubFrames.msg(message))
            }
            return delivered
        } catch let error as ZvonokError where error.code == .unavailable {
            logger.warning("Could not read a gap of a chat; holding what follows it", metadata: ["chat": "\(chat)", "error": "\(error)"])
            shard(chat).state.withLock { $0.gapUnread(of: chat) }
            return 0
        } catch {
            logger.warning("Could not read a gap of a chat; delivering past it", metadata: ["chat": "\(chat)", "error": "\(error)"])
            return shard(chat).state.withLock { sequencer in
                sequencer.skipGap(of: chat).reduce(0) { $0 + fanout.deliver($1, to: chat) }
            }
        }
    }

    /// Another node's messages: read back the watched chats' new rows and deliver them.
    func deliverAnnounced(_ ranges: [RelayMessage.ChatRange]) async {
        await readBack(ranges.compactMap { behind(chat: $0.chat, from: $0.from, through: $0.through) })
    }

    private func readBack(_ wanted: [(chat: Int64, after: Int64, through: Int64)]) async {
        guard !wanted.isEmpty else { return }
        do {
            for message in try await messages.messages(in: wanted) { await offer(HubFrames.msg(message)) }
        } catch {
            logger.warning("Could not read announced messages", metadata: ["error": "\(error)"])
        }
    }

    /// Everything the watched chats hold beyond this node's watermarks: run after listening (again), and every other
    /// heartbeat, so that announcements that never came — a node that crashed between its COMMIT and its NOTIFY, a
    /// notification lost with a listener — hold a chat up for one sweep at most. One look-up of `last_seq` per
    /// thousand watched chats; rows are read only for the chats that are behind.
    func sweep() async {
        var watched: [Int64] = []
        for shard in shards {
            watched += shard.state.withLock { $0.watermarks.map(\.chat) }.filter { fanout.isWatched($0) }
        }
        for part in watched.chunks(of: 1_000) {
            await catchUp(Array(part))
        }
    }

    private func shard(_ chat: Int64) -> SequencerShard {
        shards[shardIndex(chat)]
    }

    private func shardIndex(_ chat: Int64) -> Int {
        Int(UInt64(bitPattern: chat) % UInt64(shards.count))
    }

    /// One lock's worth of watermarks.
    private final class SequencerShard: Sendable {
        let state = Mutex(ChatSequencer<HubFrames.ChatFrame>())
    }
}
