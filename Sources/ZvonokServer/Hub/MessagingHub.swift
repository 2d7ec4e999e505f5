import Logging
import Metrics
import NIOCore
import NIOWebSocket
import Synchronization
import ZvonokCore
import ZvonokStorage

/// What every connection of this node shares: the fan-out core, the group committer, the stores and the limits.
/// The data path: frame in → authorize → sequence and persist (group commit) → fan out → frames out.
final class MessagingHub: OpenConnections, Sendable {
    let fanout = FanoutHub<HubConnection>()
    /// Connections with frames to write, gathered per event loop.
    let drains = EventLoopDrainsDirectory()
    let committer: GroupCommitter
    let chats: ChatStore
    let messages: MessageStore
    /// Membership versions: what a new connection's chats were read at.
    let memberships: MembershipStore
    /// Ends sessions and moves connections to changed chats, on notice and by a periodic check.
    let sessions: SessionGuard
    let logger: Logger
    /// Delivery to this node's connections in seq order, whichever way a message comes.
    let delivery: OrderedDelivery
    /// Fan-out to and from the other nodes.
    let relay: ClusterRelay
    /// Frames per person and kind (sends, edits, deletions, reads, syncs, pings).
    let frameLimiters: FrameLimiters
    /// Typing notices per person and chat: one per two seconds reaches the others, the rest are coalesced away.
    let typingLimiter = RateLimiter(.init(capacity: 1, perSecond: 0.5))
    /// Open WebSocket connections on this node, for `/metrics`.
    private let connectionsGauge: Meter
    private let openConnections = Atomic<Int>(0)
    /// How long a closing connection has to take its last frames (`ServerConfiguration.closeGrace`).
    let closeGrace: Duration
    /// Open connections allowed per person on this node (`ServerConfiguration.maximumConnectionsPerPerson`).
    let connectionLimit: Int
    /// How often an idle connection is pinged (`ServerConfiguration.pingInterval`, by `WebSocketPingHandler`).
    let pingInterval: Duration

    init(database: Database, configuration: ServerConfiguration, logger: Logger) {
        let messages = MessageStore(database: database)
        let fanout = self.fanout
        self.connectionsGauge = Meter(label: "zvonok_websocket_connections", dimensions: [("node", configuration.nodeName)])
        self.messages = messages
        self.chats = ChatStore(database: database)
        self.memberships = MembershipStore(database: database)
        self.logger = logger
        self.closeGrace = configuration.closeGrace
        self.connectionLimit = configuration.maximumConnectionsPerPerson
        self.pingInterval = configuration.pingInterval
        let sessions = SessionGuard(
            fanout: fanout, memberships: memberships, credentials: CredentialStore(database: database, tokenLifetime: configuration.tokenLifetime),
            interval: configuration.sessionCheckInterval, logger: logger
        )
        self.sessions = sessions
        let delivery = OrderedDelivery(fanout: fanout, messages: messages, logger: logger)
        self.delivery = delivery
        let relay = ClusterRelay(
            nodeName: configuration.nodeName, fanout: fanout, delivery: delivery, sessions: sessions, database: database, logger: logger,
            heartbeat: configuration.clusterHeartbeat
        )
        self.relay = relay
        self.frameLimiters = FrameLimiters(configuration)
        // Committed batches are delivered here through the per-chat watermarks, which restore seq order whichever of
        // the concurrent commits hands its batch on first, then announced to the other nodes. Retries are acked but
        // never delivered again.
        let committed = Counter(label: "zvonok_messages_committed", dimensions: [("node", configuration.nodeName)])
        let deliveries = Counter(label: "zvonok_message_deliveries", dimensions: [("node", configuration.nodeName)])
        self.committer = GroupCommitter(
            maximumBatch: configuration.commitBatch, maximumInFlight: configuration.commitsInFlight, commit: { try await messages.commit($0) }
        ) { batch in
            committed.increment(by: batch.count { $0.isNew })
            let (delivered, ranges) = await delivery.deliverCommitted(batch)
            deliveries.increment(by: delivered)
            relay.announceCommitted(ranges)
        }
    }

    /// Whether `person` may open one more connection here (checked before the upgrade; `connect` enforces it).
    func hasRoomForConnection(of person: Int64) -> Bool {
        fanout.sessionCount(of: person) < connectionLimit
    }

    /// Registers a connection for every chat of its person; returns the person's chats for `ready`, or nil when the
    /// person has as many connections as allowed. Each chat's `lastSeq` is this node's delivery watermark at the
    /// registration (`ClusterRelay.register`), so the connection receives live exactly the messages after it. The
    /// connection may receive live frames from here on; `HubConnection.start` puts `ready` ahead of them.
    func connect(_ connection: HubConnection) async throws -> [ChatSummary]? {
        // Read before the chats: a change between the two reads leaves the version behind, and the next check reads
        // the chats again.
        let version = try await memberships.versions(of: [connection.personID])[connection.personID] ?? 0
        var all: [ChatSummary] = []
        var after: Int64 = 0
        while true {
            let page = try await chats.chats(of: connection.personID, after: after, limit: 500)
            all += page
            guard page.count == 500, let last = page.last else { break }
            after = last.id
        }
        guard let announced = delivery.register(connection, chats: all, version: version, limit: connectionLimit) else { return nil }
        connectionsGauge.increment()
        openConnections.add(1, ordering: .relaxed)
        await delivery.catchUp(all.map(\.id))
        return all.map { chat in
            ChatSummary(id: chat.id, kind: chat.kind, title: chat.title, lastSeq: announced[chat.id] ?? chat.lastSeq, readSeq: chat.readSeq)
        }
    }

    func disconnect(_ connection: HubConnection) {
        fanout.unregister(connection, person: connection.personID)
        connectionsGauge.decrement()
        openConnections.subtract(1, ordering: .relaxed)
    }

    /// Structural changes from the registration API reach open connections at once, here and on the other nodes:
    /// when this returns, this node's connections of the people concerned follow their new chats.
    func membershipChanged(_ changes: [MembershipChange]) async {
        let people = Set(changes.map(\.personID))
        guard !people.isEmpty else { return }
        await sessions.refreshMemberships(of: people)
        relay.announceMembership(of: people.sorted())
    }

    /// Sessions that ended — every session of `person`, or the one of `token` — are closed with 4001 here and on the
    /// other nodes.
    func sessionsEnded(of person: Int64, token: Int64?) {
        sessions.endSessions(of: person, token: token)
        relay.announceEndedSessions(of: person, token: token)
    }

    /// An event for a chat's connected members, on every node.
    func broadcast(_ frame: HubFrames.ChatFrame, except: HubConnection? = nil) {
        fanout.deliver(frame, to: frame.chat, except: except)
        relay.announce(frame)
    }

    /// An event for one person's connections, on every node.
    func tell(_ person: Int64, _ frame: HubFrames.ChatFrame) {
        fanout.deliver(frame, toPerson: person)
        relay.announce(frame, toPerson: person)
    }

    /// Closes every open connection with 1001 (going away) once it has written what it holds, and waits up to
    /// `timeout` for them to go.
    func closeAll(within timeout: Duration) async {
        fanout.forEachSink { $0.close(.goingAway) }
        let deadline = ContinuousClock.now + timeout
        while openConnections.load(ordering: .relaxed) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
