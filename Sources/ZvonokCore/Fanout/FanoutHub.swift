public import Synchronization

/// The in-memory fan-out core: which connected sessions follow which chat, and delivery of an encoded frame to all
/// of them.
///
/// Sharded by chat id (and by person for the person index) so that deliveries and joins on different chats do not
/// contend. A delivery copies the chat's member list under its shard lock — a copy-on-write array, so a pointer
/// copy — and enqueues into each sink after releasing it: no lock is ever held while touching a connection, and
/// the sender never waits for a receiver.
///
/// Lock order: a person shard's lock may be held while taking chat shard locks (joins and leaves), never the
/// reverse.
public final class FanoutHub<Sink: FrameSink>: Sendable {
    /// A connected session: its sink, and the person it belongs to.
    @usableFromInline
    struct Session: Sendable {
        @usableFromInline let sink: Sink
        @usableFromInline let personID: Int64

        @usableFromInline
        init(sink: Sink, personID: Int64) {
            self.sink = sink
            self.personID = personID
        }
    }

    private struct PersonEntry {
        var sessions: [Session] = []
        var chats: Set<Int64> = []
        /// The membership version `chats` was read at (`replaceChats`); 0 when unknown.
        var membershipVersion: Int64 = 0
    }

    /// One lock's worth of the index (`Mutex` cannot live in an array by value).
    @usableFromInline
    final class Shard<Value: Sendable>: Sendable {
        @usableFromInline let state: Mutex<Value>
        init(_ value: Value) { state = Mutex(value) }
    }

    @usableFromInline let chatShards: [Shard<[Int64: [Session]]>]
    private let personShards: [Shard<[Int64: PersonEntry]>]

    public init(shards: Int = 64) {
        chatShards = (0..<shards).map { _ in Shard([:]) }
        personShards = (0..<shards).map { _ in Shard([:]) }
    }

    /// Fibonacci hashing spreads sequential ids over the shards.
    @usableFromInline
    static func shard(_ id: Int64, of count: Int) -> Int {
        Int((UInt64(bitPattern: id) &* 0x9E37_79B9_7F4A_7C15) >> 32) % count
    }

    @usableFromInline
    func chatShard(_ chat: Int64) -> Shard<[Int64: [Session]]> {
        chatShards[Self.shard(chat, of: chatShards.count)]
    }

    private func personShard(_ person: Int64) -> Shard<[Int64: PersonEntry]> {
        personShards[Self.shard(person, of: personShards.count)]
    }

    // MARK: Sessions

    /// Registers a connection of `person`, following `chats` (the person's chats when they connected, as of
    /// membership `version`), unless the person already has `limit` connections here; returns whether it was
    /// registered. The person's connections share one set of chats: the newer of the two versions wins.
    @discardableResult
    public func register(_ sink: Sink, person: Int64, chats: [Int64], version: Int64 = 0, limit: Int = .max) -> Bool {
        let session = Session(sink: sink, personID: person)
        return personShard(person).state.withLock { people in
            var entry = people[person] ?? PersonEntry()
            guard entry.sessions.count < limit else { return false }
            if entry.sessions.isEmpty {
                entry.chats = Set(chats)
                entry.membershipVersion = version
            } else if version > entry.membershipVersion {
                _ = replace(&entry, of: person, with: Set(chats), version: version)
            } else if version == entry.membershipVersion {
                entry.chats.formUnion(chats)
            }
            entry.sessions.append(session)
            for chat in entry.chats { chatShard(chat).state.withLock { $0[chat, default: []].append(session) } }
            people[person] = entry
            return true
        }
    }

    /// How many connections `person` has open here.
    public func sessionCount(of person: Int64) -> Int {
        personShard(person).state.withLock { $0[person]?.sessions.count ?? 0 }
    }

    /// Forgets a connection; it receives nothing more.
    public func unregister(_ sink: Sink, person: Int64) {
        personShard(person).state.withLock { people in
            guard var entry = people[person] else { return }
            entry.sessions.removeAll { $0.sink === sink }
            for chat in entry.chats { remove(sink, from: chat) }
            people[person] = entry.sessions.isEmpty ? nil : entry
        }
    }

    private func remove(_ sink: Sink, from chat: Int64) {
        chatShard(chat).state.withLock { chats in
            chats[chat]?.removeAll { $0.sink === sink }
            if chats[chat]?.isEmpty == true { chats[chat] = nil }
        }
    }

    // MARK: Membership

    /// Sets the chats a connected person follows, read at membership `version`, unless this node knows a version as
    /// new already (a read that raced a newer change is dropped). Returns the changes made, none for a person not
    /// connected here.
    @discardableResult
    public func replaceChats(of person: Int64, with chats: Set<Int64>, version: Int64) -> [MembershipChange] {
        personShard(person).state.withLock { people in
            guard var entry = people[person], version > entry.membershipVersion else { return [] }
            let changes = replace(&entry, of: person, with: chats, version: version)
            people[person] = entry
            return changes
        }
    }

    /// Moves every session of `entry` from its chats to `chats`; the caller holds the person's shard lock.
    private func replace(_ entry: inout PersonEntry, of person: Int64, with chats: Set<Int64>, version: Int64) -> [MembershipChange] {
        let left = entry.chats.subtracting(chats), joined = chats.subtracting(entry.chats)
        for chat in left {
            for session in entry.sessions { remove(session.sink, from: chat) }
        }
        for chat in joined where !entry.sessions.isEmpty {
            chatShard(chat).state.withLock { $0[chat, default: []].append(contentsOf: entry.sessions) }
        }
        entry.chats = chats
        entry.membershipVersion = version
        return left.sorted().map { MembershipChange(chatID: $0, personID: person, joined: false) }
            + joined.sorted().map { MembershipChange(chatID: $0, personID: person, joined: true) }
    }

    /// Every connected person with the membership version this node follows them at: what the periodic check
    /// compares with the database.
    public func membershipVersions() -> [(person: Int64, version: Int64)] {
        personShards.flatMap { shard in
            shard.state.withLock { people in people.map { (person: $0.key, version: $0.value.membershipVersion) } }
        }
    }

    /// The open connections of `person` here.
    public func sinks(of person: Int64) -> [Sink] {
        personShard(person).state.withLock { $0[person]?.sessions.map(\.sink) ?? [] }
    }

    /// Whether any session here follows `chat`: a node reads and delivers only the chats someone watches.
    public func isWatched(_ chat: Int64) -> Bool {
        chatShard(chat).state.withLock { $0[chat] != nil }
    }

    /// Whether the person's open connections follow `chat` — their membership as this node knows it, kept current by
    /// `apply`.
    public func follows(_ person: Int64, chat: Int64) -> Bool {
        personShard(person).state.withLock { $0[person]?.chats.contains(chat) ?? false }
    }

    /// Hands `payload` to every open connection of `person` (a frame addressed to a person, not a chat); returns
    /// how many.
    @discardableResult
    public func deliver(_ payload: Sink.Payload, toPerson person: Int64) -> Int {
        let sinks = personShard(person).state.withLock { $0[person]?.sessions.map(\.sink) ?? [] }
        for sink in sinks { sink.enqueue(payload) }
        return sinks.count
    }

    /// Calls `body` with every connected sink (outside the locks): to close them all on shutdown.
    public func forEachSink(_ body: (Sink) -> Void) {
        for shard in personShards {
            let sinks = shard.state.withLock { people in people.values.flatMap { $0.sessions.map(\.sink) } }
            sinks.forEach(body)
        }
    }

    // MARK: Delivery

    /// Hands `payload` to every session following `chat`; returns how many. `except` skips one sink (a typing
    /// notice is not echoed to its sender).
    // Inlinable so that the server's (and the benchmark's) concrete sink type is specialized in: unspecialized
    // generic code looks type metadata up at run time on every call, which cost ten times the delivery itself.
    @inlinable
    @discardableResult
    public func deliver(_ payload: Sink.Payload, to chat: Int64, except: Sink? = nil) -> Int {
        let sessions = chatShard(chat).state.withLock { $0[chat] ?? [] }
        var delivered = 0
        for session in sessions where session.sink !== except {
            session.sink.enqueue(payload)
            delivered += 1
        }
        return delivered
    }
}
