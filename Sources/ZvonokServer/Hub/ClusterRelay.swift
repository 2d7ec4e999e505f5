import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import ZvonokCore
import ZvonokStorage

/// Fan-out across nodes through PostgreSQL LISTEN/NOTIFY: no broker, no cluster protocol of our own.
///
/// After each group commit a node announces the new messages as compact `chat:from-to` ranges (one NOTIFY
/// statement per batch, outside the committing transaction); every node listens, reads the rows of chats its
/// sessions watch back from the table, and delivers them. Local and announced messages alike pass a per-chat
/// watermark (`ChatSequencer`), so each chat reaches sessions in `seq` order with no gap: a message that skips
/// ahead waits while the gap is read from the table. When the listening connection drops, the node catches every
/// watched chat up from its watermark once it listens again.
///
/// Events travel the same channel: edits, deletions, read marks and typing as the very frame the node sends its own
/// sessions; people whose chats changed, for each node to read their chats again; sessions that ended, as
/// `person` (all of them) or `person:token` (one), for each node to close their connections (`SessionGuard`).
final class ClusterRelay: Sendable {
    static let channel = "zvonok_hub"
    /// Room for a payload under PostgreSQL's 8,000-byte limit.
    static let maximumPayload = 7_900

    /// This process's name on the channel: the node name and a random suffix, so that a node knows its own
    /// announcements (and two nodes given the same name do not ignore each other).
    let node: String
    private let fanout: FanoutHub<HubConnection>
    private let sessions: SessionGuard
    private let messages: MessageStore
    private let database: Database
    private let logger: Logger
    private let shards: [SequencerShard]
    private let listening = Atomic<Bool>(false)
    /// How often the node sends itself a heartbeat on the channel; three missed in a row mean the listening
    /// connection went silent, and the node listens again.
    private let heartbeat: Duration
    /// When the node last heard its own heartbeat (or started listening).
    private let lastHeard = Mutex(ContinuousClock.now)

    init(
        nodeName: String, fanout: FanoutHub<HubConnection>, sessions: SessionGuard, messages: MessageStore, database: Database, logger: Logger,
        heartbeat: Duration
    ) {
        self.node = "\(nodeName)-\(String(UInt32.random(in: .min ... .max), radix: 16))"
        self.fanout = fanout
        self.sessions = sessions
        self.messages = messages
        self.database = database
        self.logger = logger
        self.heartbeat = heartbeat
        self.shards = (0..<64).map { _ in SequencerShard() }
    }

    /// Whether the node hears the other nodes now (for `/health`).
    var isListening: Bool { listening.load(ordering: .relaxed) }

    // MARK: Messages

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

    /// This node's committed batch: delivered through the watermarks, then announced to the other nodes. Returns
    /// the number of deliveries.
    func deliverCommitted(_ batch: [CommittedMessage]) async -> Int {
        var delivered = 0
        var ranges: [Int64: ClosedRange<Int64>] = [:]
        for message in batch where message.isNew {
            delivered += await offer(HubFrames.msg(message))
            let range = ranges[message.chatID]
            ranges[message.chatID] = min(range?.lowerBound ?? message.seq, message.seq)...max(range?.upperBound ?? message.seq, message.seq)
        }
        let announcement = ranges.map { "\($0.key):\($0.value.lowerBound)-\($0.value.upperBound)" }
        announce("m", announcement.sorted(), separator: ",")
        return delivered
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

    /// Reads missing messages from the table and offers them; if that fails, gives the gap up (clients see it and
    /// `sync`).
    private func readGap(_ missing: ClosedRange<Int64>, of chat: Int64) async -> Int {
        do {
            var delivered = 0
            for message in try await messages.messages(in: [(chat, missing.lowerBound - 1, missing.upperBound)]) {
                delivered += await offer(Self.frame(message))
            }
            return delivered
        } catch {
            logger.warning("Could not read a gap of a chat; delivering past it", metadata: ["chat": "\(chat)", "error": "\(error)"])
            return shard(chat).state.withLock { sequencer in
                sequencer.skipGap(of: chat).reduce(0) { $0 + fanout.deliver($1, to: chat) }
            }
        }
    }

    /// Another node's messages: read back the watched chats' new rows and deliver them.
    private func received(ranges text: Substring) async {
        let wanted = text.split(separator: ",").compactMap { item -> (chat: Int64, after: Int64, through: Int64)? in
            let parts = item.split(whereSeparator: { $0 == ":" || $0 == "-" })
            guard parts.count == 3, let chat = Int64(parts[0]), let from = Int64(parts[1]), let through = Int64(parts[2]) else { return nil }
            return behind(chat: chat, from: from, through: through)
        }
        await readBack(wanted)
    }

    private func readBack(_ wanted: [(chat: Int64, after: Int64, through: Int64)]) async {
        guard !wanted.isEmpty else { return }
        do {
            for message in try await messages.messages(in: wanted) { await offer(Self.frame(message)) }
        } catch {
            logger.warning("Could not read announced messages", metadata: ["error": "\(error)"])
        }
    }

    /// Everything the watched chats hold beyond this node's watermarks: run after listening (again), and every other
    /// heartbeat, so that announcements that never came — a node that crashed between its COMMIT and its NOTIFY, a
    /// notification lost with a listener — hold a chat up for one sweep at most. One look-up of `last_seq` per
    /// thousand watched chats; rows are read only for the chats that are behind.
    private func sweep() async {
        var watched: [Int64] = []
        for shard in shards {
            watched += shard.state.withLock { $0.watermarks.map(\.chat) }.filter { fanout.isWatched($0) }
        }
        for start in stride(from: 0, to: watched.count, by: 1_000) {
            await catchUp(Array(watched[start..<min(start + 1_000, watched.count)]))
        }
    }

    private static func frame(_ message: MessageStore.StoredMessage) -> HubFrames.ChatFrame {
        HubFrames.ChatFrame(bytes: HubFrames.msg(message), chat: message.chatID, seq: message.seq)
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

    // MARK: Events

    /// An event frame for a chat's members (edited, deleted, read, typing) on the other nodes.
    func announce(_ frame: HubFrames.ChatFrame) {
        announce("e", ["\(frame.chat)|\(String(buffer: frame.bytes))"], separator: "")
    }

    /// An event frame for one person's connections on the other nodes.
    func announce(_ frame: HubFrames.ChatFrame, toPerson person: Int64) {
        announce("p", ["\(person)|\(String(buffer: frame.bytes))"], separator: "")
    }

    /// People whose chats changed, for the other nodes to read their chats again.
    func announceMembership(of people: some Sequence<Int64>) {
        announce("k", people.map(String.init), separator: ",")
    }

    /// Sessions that ended — every session of `person`, or the one of `token` — for the other nodes to close.
    func announceEndedSessions(of person: Int64, token: Int64?) {
        announce("r", [token.map { "\(person):\($0)" } ?? "\(person)"], separator: ",")
    }

    private func receivedEvent(_ kind: Character, _ body: Substring) async {
        switch kind {
        case "e", "p":
            guard let bar = body.firstIndex(of: "|"), let target = Int64(body[..<bar]) else { return }
            let frame = HubFrames.ChatFrame(
                bytes: ByteBuffer(string: String(body[body.index(after: bar)...])), chat: kind == "e" ? target : 0, seq: 0)
            if kind == "e" {
                fanout.deliver(frame, to: target)
            } else {
                fanout.deliver(frame, toPerson: target)
            }
        case "k":
            await sessions.refreshMemberships(of: body.split(separator: ",").compactMap { Int64($0) })
        case "r":
            for item in body.split(separator: ",") {
                let parts = item.split(separator: ":").map { Int64($0) }
                guard let person = parts.first ?? nil, parts.allSatisfy({ $0 != nil }) else { continue }
                sessions.endSessions(of: person, token: parts.count == 2 ? parts[1] : nil)
            }
        default:
            break
        }
    }

    // MARK: The channel

    /// Packs items into as few payloads as fit (`kind|node|items`) and sends them without holding anyone up. An
    /// item too long for one payload (an edit of a long text) is kept in the database and announced by its id
    /// (`b|node|id`), for the other nodes to read back.
    private func announce(_ kind: Character, _ items: [String], separator: String) {
        guard !items.isEmpty else { return }
        let head = "\(kind)|\(node)|"
        var payloads: [String] = []
        var current = ""
        for item in items {
            if head.utf8.count + item.utf8.count > Self.maximumPayload {
                announceStored(head + item)
                continue
            }
            if !current.isEmpty, head.utf8.count + current.utf8.count + separator.utf8.count + item.utf8.count > Self.maximumPayload {
                payloads.append(head + current)
                current = ""
            }
            current += current.isEmpty ? item : separator + item
        }
        if !current.isEmpty { payloads.append(head + current) }
        let database = self.database, logger = self.logger
        Task {
            do {
                try await database.notify(Self.channel, payloads)
            } catch {
                logger.warning("Could not announce to other nodes", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Keeps a payload too long for NOTIFY in the database and announces its id.
    private func announceStored(_ payload: String) {
        let database = self.database, logger = self.logger, node = self.node
        Task {
            do {
                let id = try await database.storePayload(payload)
                try await database.notify(Self.channel, ["b|\(node)|\(id)"])
            } catch {
                logger.warning("Could not announce a long event to other nodes", metadata: ["error": "\(error)"])
            }
        }
    }

    private func received(_ payload: String) async {
        let parts = payload.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let kind = parts[0].first else { return }
        if kind == "h" {
            if parts[1] == node { lastHeard.withLock { $0 = .now } }
            return
        }
        guard parts[1] != node else { return }
        if kind == "b" {
            await receivedStored(parts[2])
        } else if kind == "m" {
            await received(ranges: parts[2])
        } else {
            await receivedEvent(kind, parts[2])
        }
    }

    /// A long payload another node kept in the database: read it back and take it as if it had come itself.
    private func receivedStored(_ id: Substring) async {
        guard let id = Int64(id) else { return }
        do {
            guard let payload = try await database.storedPayload(id) else { return }
            await received(payload)
        } catch {
            logger.warning("Could not read a long event another node announced", metadata: ["error": "\(error)"])
        }
    }

    /// Listens until the node shuts down, listening again (and catching up) whenever the connection drops or goes
    /// silent.
    ///
    /// Each listening session runs in a task of its own, watched by a heartbeat: a LISTEN on a connection that died
    /// unnoticed, or a `listen` that never returns (postgres-nio can leak its continuation when the connection
    /// closes as it starts, vapor/postgres-nio#601), is left behind and replaced rather than waited for.
    func run() async {
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            lastHeard.withLock { $0 = .now }
            let (ended, end) = AsyncStream.makeStream(of: Void.self)
            let session = Task {
                do {
                    try await database.listen(
                        Self.channel,
                        listening: {
                            await self.sweep()
                            self.listening.store(true, ordering: .relaxed)
                            self.logger.info("Listening on the cluster channel", metadata: ["node": "\(self.node)"])
                        }, handle: { await self.received($0) })
                } catch {
                    if !Task.isCancelled { self.logger.warning("Lost the cluster channel; listening again", metadata: ["error": "\(error)"]) }
                }
                end.yield()
            }
            let watchdog = Task {
                await self.watchHeartbeat()
                end.yield()
            }
            var first = ended.makeAsyncIterator()
            _ = await first.next()  // the session ended, the heartbeat stopped, or the node is shutting down
            session.cancel()
            watchdog.cancel()
            listening.store(false, ordering: .relaxed)
            if Task.isCancelled || Task.isShuttingDownGracefully { break }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
        listening.store(false, ordering: .relaxed)
    }

    /// Sends the node's heartbeat every `heartbeat` while it listens; returns when none came back for three
    /// periods (or the session never confirmed its LISTEN in that time). Sweeps the watched chats every other period.
    private func watchHeartbeat() async {
        var period = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: heartbeat)
            if Task.isCancelled { return }
            period += 1
            if isListening {
                try? await database.notify(Self.channel, ["h|\(node)|"])
                if period % 2 == 0 {
                    await sweep()
                    try? await database.pruneStoredPayloads(olderThan: .seconds(600))
                }
            }
            if lastHeard.withLock({ ContinuousClock.now - $0 }) > heartbeat * 3 {
                logger.warning("The cluster channel went silent; listening again", metadata: ["node": "\(node)"])
                return
            }
        }
    }
}

/// Runs the relay's listener beside the server.
struct ClusterRelayService: Service {
    let relay: ClusterRelay

    func run() async throws {
        await cancelWhenGracefulShutdown { await relay.run() }
    }
}
