import Logging
import Metrics
import NIOCore
import NIOWebSocket
import Synchronization
import ZvonokCore
import ZvonokStorage

/// The coordinator of one node's hub: each connection's session (`HubSession`) asks it for the steps of the data path
/// by name, and it hands each to the part that does it.
///
/// A message's way, in order: frame in (`HubChannelHandler`) → decode (`HubFrames`) → authorize (`admit`,
/// `kind(of:in:)`, here) → sequence and persist (`submit`, the `GroupCommitter` over `MessageStore.commit`) → deliver
/// locally in seq order (`MessagePublisher` through `OrderedDelivery` and the `FanoutHub`) → announce to the other
/// nodes (`ClusterRelay`) → frames out (`HubConnection`, drained per event loop by `EventLoopDrains`).
final class MessagingHub: OpenConnections, Sendable {
    /// The hub's settings, taken from the server's.
    struct Configuration: Sendable {
        /// How long a closing connection has to take its last frames.
        var closeGrace: Duration
        /// Open connections allowed per person on this node.
        var connectionLimit: Int
        /// How often an idle connection is pinged (by `WebSocketPingHandler`).
        var pingInterval: Duration
        /// The most messages one group commit takes, and how many commit at once.
        var commitBatch: Int
        var commitsInFlight: Int
        /// This node's name on the cluster's channel and in `/metrics`.
        var nodeName: String
        var clusterHeartbeat: Duration
        var sessionCheckInterval: Duration
        var tokenLifetime: Duration
        /// Files one message may carry.
        var filesPerMessage: Int

        init(_ server: ServerConfiguration) {
            closeGrace = server.closeGrace
            connectionLimit = server.maximumConnectionsPerPerson
            pingInterval = server.pingInterval
            commitBatch = server.commitBatch
            commitsInFlight = server.commitsInFlight
            nodeName = server.nodeName
            clusterHeartbeat = server.clusterHeartbeat
            sessionCheckInterval = server.sessionCheckInterval
            tokenLifetime = server.tokenLifetime
            filesPerMessage = server.files.limits.filesPerMessage
        }
    }

    let configuration: Configuration
    let logger: Logger
    /// Connections with frames to write, gathered per event loop.
    let drains = EventLoopDrainsDirectory()
    /// Ends sessions and moves connections to changed chats, on notice and by a periodic check (run as a service).
    let sessions: SessionGuard
    /// Fan-out to and from the other nodes (its listener runs as a service).
    let relay: ClusterRelay
    /// Who is connected here, for the notification sender of every node (run as a service).
    let presence: PresenceRecorder
    /// The `quietUntil` of acks.
    let quietHours: QuietHoursAcks
    private let notificationSettings: NotificationSettingsStore

    /// Who is connected, and to which chats.
    private let fanout = FanoutHub<HubConnection>()
    /// Authorize: frames per person and kind; typing notices per person and chat (one per two seconds reaches the
    /// others, the rest are coalesced away).
    private let frameLimiters: FrameLimiters
    private let typingLimiter = RateLimiter(.init(capacity: 1, perSecond: 0.5))
    /// Sequence and persist.
    private let committer: GroupCommitter
    /// Deliver locally, in seq order, whichever way a message comes.
    private let delivery: OrderedDelivery
    private let messages: MessageStore
    private let attachments: AttachmentReads
    private let chats: ChatStore
    private let memberships: MembershipStore
    private let connectionsGauge: Meter
    private let openConnections = Atomic<Int>(0)

    init(database: Database, configuration serverConfiguration: ServerConfiguration, logger: Logger) {
        let configuration = Configuration(serverConfiguration)
        let messages = MessageStore(database: database)
        let fanout = self.fanout
        self.configuration = configuration
        self.logger = logger
        self.messages = messages
        self.attachments = AttachmentReads(files: FileStore(database: database))
        self.chats = ChatStore(database: database)
        self.memberships = MembershipStore(database: database)
        self.frameLimiters = FrameLimiters(serverConfiguration)
        self.connectionsGauge = Meter(label: "zvonok_websocket_connections", dimensions: [("node", configuration.nodeName)])
        let sessions = SessionGuard(
            fanout: fanout, memberships: memberships, credentials: CredentialStore(database: database, tokenLifetime: configuration.tokenLifetime),
            interval: configuration.sessionCheckInterval, logger: logger
        )
        let delivery = OrderedDelivery(fanout: fanout, messages: messages, logger: logger)
        let relay = ClusterRelay(
            nodeName: configuration.nodeName, fanout: fanout, delivery: delivery, sessions: sessions, database: database, logger: logger,
            heartbeat: configuration.clusterHeartbeat
        )
        self.sessions = sessions
        self.delivery = delivery
        let notificationSettings = NotificationSettingsStore(database: database)
        self.notificationSettings = notificationSettings
        self.quietHours = QuietHoursAcks(settings: notificationSettings, clock: serverConfiguration.notifications.clock, logger: logger)
        self.presence = PresenceRecorder(
            store: PushPresenceStore(database: database), configuration: serverConfiguration.notifications, logger: logger,
            isConnected: { fanout.sessionCount(of: $0) > 0 })
        self.relay = relay
        let publisher = MessagePublisher(delivery: delivery, relay: relay, node: configuration.nodeName)
        self.committer = GroupCommitter(
            maximumBatch: configuration.commitBatch, maximumInFlight: configuration.commitsInFlight, commit: messages.commit,
            committed: publisher.publish
        )
    }

    // MARK: Connections

    /// Whether `person` may open one more connection here (checked before the upgrade; `connect` enforces it).
    func hasRoomForConnection(of person: Int64) -> Bool {
        fanout.sessionCount(of: person) < configuration.connectionLimit
    }

    /// Registers a connection for every chat of its person; returns the person's chats for `ready`, or nil when the
    /// person has as many connections as allowed. Each chat's `lastSeq` is this node's delivery watermark at the
    /// registration (`OrderedDelivery.register`), so the connection receives live exactly the messages after it. The
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
        guard let announced = delivery.register(connection, chats: all, version: version, limit: configuration.connectionLimit) else { return nil }
        connectionsGauge.increment()
        openConnections.add(1, ordering: .relaxed)
        presence.personChanged(connection.personID)
        await delivery.catchUp(all.map(\.id))
        return all.map { chat in
            ChatSummary(id: chat.id, kind: chat.kind, title: chat.title, lastSeq: announced[chat.id] ?? chat.lastSeq, readSeq: chat.readSeq)
        }
    }

    func disconnect(_ connection: HubConnection) {
        fanout.unregister(connection, person: connection.personID)
        presence.personChanged(connection.personID)
        connectionsGauge.decrement()
        openConnections.subtract(1, ordering: .relaxed)
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

    // MARK: Authorize

    /// Takes one of `person`'s tokens for a frame of `kind`; `rate_limited` when there is none.
    func admit(_ kind: FrameKind, from person: Int64) throws(ZvonokError) {
        try frameLimiters.admit(kind, from: person)
    }

    /// Whether `person`'s connections here follow `chat` now.
    func follows(_ person: Int64, chat: Int64) -> Bool {
        fanout.follows(person, chat: chat)
    }

    /// The kind of a chat `person` is a member of (read from the database: for chats joined since connecting), or
    /// nil when they are not.
    func kind(of chat: Int64, for person: Int64) async throws -> ChatKind? {
        try await messages.membershipKind(of: person, in: chat)
    }

    /// The files a send names, checked as the sender's to attach there (`AttachmentReads`); none when it names none.
    func attach(_ fileIDs: [Int64], to chat: Int64, by person: Int64, cid: String) async throws -> [AttachedFile] {
        guard fileIDs.count <= configuration.filesPerMessage else {
            throw ZvonokError.invalidArgument("a message carries at most \(configuration.filesPerMessage) files")
        }
        return try await attachments.attachable(FileStore.Attachment(ids: fileIDs, chat: chat, sender: person, cid: cid))
    }

    // MARK: Sequence and persist

    /// Queues a message for the group commit behind everything submitted before it; `reply` gets it once durable,
    /// after which it is delivered here and announced to the other nodes (`MessagePublisher`).
    func submit(_ message: PendingMessage, reply: @escaping GroupCommitter.Reply) {
        committer.submit(message, reply: reply)
    }

    /// Records that a send is urgent (it notifies at once, through quiet hours), in the audit log.
    func markUrgent(cid: String, in chat: Int64, by sender: Identity) async throws {
        try await notificationSettings.markUrgent(cid: cid, chat: chat, by: sender)
    }

    /// Up to `limit` stored messages of a chat after `after`: one batch of a `sync`.
    func history(of chat: Int64, after: Int64, limit: Int) async throws -> [ChatMessage] {
        try await messages.messages(of: chat, after: after, limit: limit)
    }

    // MARK: Events

    /// Edits a message and tells the chat.
    func edit(chat: Int64, seq: Int64, by person: Int64, text: String) async throws {
        broadcast(HubFrames.edited(try await messages.edit(chat: chat, seq: seq, by: person, text: text)))
    }

    /// Deletes a message and tells the chat (unless it was deleted already).
    func delete(chat: Int64, seq: Int64, by caller: Identity) async throws {
        let change = try await messages.delete(chat: chat, seq: seq, by: caller)
        if change.changed { broadcast(HubFrames.deleted(change)) }
    }

    /// Moves a read mark; the others see it in small chats, only the reader's own connections in a school channel
    /// (thousands of members reading would otherwise flood everyone).
    func markRead(chat: Int64, kind: ChatKind, by person: Int64, through seq: Int64) async throws {
        let marks = try await messages.markRead(chat: chat, by: person, through: seq)
        guard marks.after > marks.before else { return }
        let frame = HubFrames.read(chat: chat, user: person, seq: marks.after)
        if kind == .school {
            tell(person, frame)
        } else {
            broadcast(frame)
        }
    }

    /// Tells the chat's other members that `person` is typing, at most once per two seconds.
    func typing(in chat: Int64, by person: Int64, from connection: HubConnection) {
        guard typingLimiter.allow("\(person):\(chat)") else { return }
        broadcast(HubFrames.typing(chat: chat, user: person), except: connection)
    }

    /// An event for a chat's connected members, on every node.
    private func broadcast(_ frame: HubFrames.ChatFrame, except: HubConnection? = nil) {
        fanout.deliver(frame, to: frame.chat, except: except)
        relay.announce(frame)
    }

    /// An event for one person's connections, on every node.
    private func tell(_ person: Int64, _ frame: HubFrames.ChatFrame) {
        fanout.deliver(frame, toPerson: person)
        relay.announce(frame, toPerson: person)
    }

    // MARK: Changes from the registration API (OpenConnections)

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
}

/// What follows a group commit: each committed batch delivered to this node's connections in seq order (the per-chat
/// watermarks restore it whichever of the concurrent commits hands its batch on first), then announced to the other
/// nodes. Retries are acked by the committer but never delivered again.
struct MessagePublisher: Sendable {
    let delivery: OrderedDelivery
    let relay: ClusterRelay
    private let committed: Counter
    private let deliveries: Counter

    init(delivery: OrderedDelivery, relay: ClusterRelay, node: String) {
        self.delivery = delivery
        self.relay = relay
        self.committed = Counter(label: "zvonok_messages_committed", dimensions: [("node", node)])
        self.deliveries = Counter(label: "zvonok_message_deliveries", dimensions: [("node", node)])
    }

    @Sendable func publish(_ batch: [CommittedMessage]) async {
        committed.increment(by: batch.count { $0.isNew })
        let (delivered, ranges) = await delivery.deliverCommitted(batch)
        deliveries.increment(by: delivered)
        relay.announceCommitted(ranges)
    }
}
