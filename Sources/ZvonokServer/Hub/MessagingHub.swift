import Logging
import Metrics
import NIOCore
import Synchronization
import NIOWebSocket
import ZvonokCore
import ZvonokStorage

/// What every connection of this node shares: the fan-out core, the group committer, the stores and the limits.
/// The data path: frame in → authorize → sequence and persist (group commit) → fan out → frames out.
final class MessagingHub: Sendable {
    let fanout = FanoutHub<HubConnection>()
    let committer: GroupCommitter
    let chats: ChatStore
    let messages: MessageStore
    let logger: Logger
    /// Sends per person; nil when unlimited.
    let sendLimiter: RateLimiter?
    /// Typing notices per person and chat: one per two seconds reaches the others, the rest are coalesced away.
    let typingLimiter = RateLimiter(.init(capacity: 1, perSecond: 0.5))
    /// Open WebSocket connections on this node, for `/metrics`.
    private let connectionsGauge = Meter(label: "zvonok_websocket_connections")
    private let openConnections = Atomic<Int>(0)

    init(database: Database, configuration: ServerConfiguration, logger: Logger) {
        let messages = MessageStore(database: database)
        let fanout = self.fanout
        self.messages = messages
        self.chats = ChatStore(database: database)
        self.logger = logger
        self.sendLimiter = configuration.sendRate > 0
            ? RateLimiter(.init(capacity: Double(configuration.sendBurst), perSecond: configuration.sendRate))
            : nil
        // Committed batches fan out in commit order: per chat, recipients see seq order. Retries are acked but
        // never delivered again.
        let committed = Counter(label: "zvonok_messages_committed")
        let deliveries = Counter(label: "zvonok_message_deliveries")
        self.committer = GroupCommitter(commit: { try await messages.commit($0) }) { batch in
            for message in batch where message.isNew {
                committed.increment()
                deliveries.increment(by: fanout.deliver(HubFrames.msg(message), to: message.chatID))
            }
        }
    }

    /// Registers a connection for every chat of its person; returns the person's chats for `ready`.
    func connect(_ connection: HubConnection) async throws -> [ChatSummary] {
        var all: [ChatSummary] = []
        var after: Int64 = 0
        while true {
            let page = try await chats.chats(of: connection.personID, after: after, limit: 500)
            all += page
            guard page.count == 500, let last = page.last else { break }
            after = last.id
        }
        fanout.register(connection, person: connection.personID, chats: all.map(\.id))
        connectionsGauge.increment()
        openConnections.add(1, ordering: .relaxed)
        return all
    }

    func disconnect(_ connection: HubConnection) {
        fanout.unregister(connection, person: connection.personID)
        connectionsGauge.decrement()
        openConnections.subtract(1, ordering: .relaxed)
    }

    /// Structural changes from the registration API reach open connections at once.
    func apply(_ changes: [MembershipChange]) {
        fanout.apply(changes)
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
