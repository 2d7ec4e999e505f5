import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import ZvonokCore
import ZvonokStorage

/// Fan-out across nodes through PostgreSQL LISTEN/NOTIFY: no broker, no cluster protocol of our own. What the nodes
/// say to each other is a `RelayMessage`; this type sends them and acts on those it receives.
///
/// After each group commit a node announces the new messages as compact seq ranges (one NOTIFY statement per batch,
/// outside the committing transaction); every node reads the rows of the chats its connections watch back from the
/// table and hands them to `OrderedDelivery`, which puts each chat in `seq` order. When the listening connection
/// (`ClusterListener`) drops, the node catches every watched chat up from its watermark once it listens again.
///
/// Events travel the same channel: edits, deletions, read marks and typing as the very frame the node sends its own
/// connections; people whose chats changed and sessions that ended, for each node's `SessionGuard`.
final class ClusterRelay: Sendable {
    static let channel = "zvonok_hub"
    /// Room for a payload under PostgreSQL's 8,000-byte limit.
    static let maximumPayload = 7_900

    /// This process's name on the channel: the node name and a random suffix, so that a node knows its own
    /// announcements (and two nodes given the same name do not ignore each other).
    let node: String
    private let fanout: FanoutHub<HubConnection>
    private let delivery: OrderedDelivery
    private let sessions: SessionGuard
    private let database: Database
    private let logger: Logger
    private let listener: ClusterListener

    init(
        nodeName: String, fanout: FanoutHub<HubConnection>, delivery: OrderedDelivery, sessions: SessionGuard, database: Database,
        logger: Logger, heartbeat: Duration
    ) {
        // `|` separates a payload's fields (`RelayMessage`), so it cannot stand in a node's name there.
        let node = "\(nodeName.replacingOccurrences(of: "|", with: "_"))-\(String(UInt32.random(in: .min ... .max), radix: 16))"
        self.node = node
        self.fanout = fanout
        self.delivery = delivery
        self.sessions = sessions
        self.database = database
        self.logger = logger
        self.listener = ClusterListener(database: database, channel: Self.channel, node: node, heartbeat: heartbeat, logger: logger)
    }

    /// Whether the node hears the other nodes now (for `/health`).
    var isListening: Bool { listener.isListening }

    /// This node's new messages, for the other nodes to read back.
    func announceCommitted(_ ranges: [RelayMessage.ChatRange]) {
        announce(.messages(ranges))
    }

    // MARK: Events

    /// An event frame for a chat's members (edited, deleted, read, typing) on the other nodes.
    func announce(_ frame: HubFrames.ChatFrame) {
        announce(.chatEvent(chat: frame.chat, frame: String(buffer: frame.bytes)))
    }

    /// An event frame for one person's connections on the other nodes.
    func announce(_ frame: HubFrames.ChatFrame, toPerson person: Int64) {
        announce(.personEvent(person: person, frame: String(buffer: frame.bytes)))
    }

    /// People whose chats changed, for the other nodes to read their chats again.
    func announceMembership(of people: [Int64]) {
        announce(.membershipChanged(people))
    }

    /// Sessions that ended — every session of `person`, or the one of `token` — for the other nodes to close.
    func announceEndedSessions(of person: Int64, token: Int64?) {
        announce(.sessionsEnded([RelayMessage.EndedSession(person: person, token: token)]))
    }

    // MARK: The channel

    /// Sends a message to the other nodes without holding anyone up, in as few payloads as fit. An item too long for
    /// one payload (an edit of a long text) is kept in the database and announced by its id, for the others to read
    /// back.
    private func announce(_ message: RelayMessage) {
        let (payloads, tooLong) = message.payloads(from: node, maximum: Self.maximumPayload)
        guard !payloads.isEmpty || !tooLong.isEmpty else { return }
        let database = self.database, logger = self.logger, node = self.node, listener = self.listener
        Task {
            do {
                var stored: [String] = []
                for payload in tooLong {
                    stored += RelayMessage.stored(try await database.storePayload(payload)).payloads(from: node, maximum: Self.maximumPayload).fitting
                }
                try await listener.notify(payloads + stored)
            } catch {
                logger.warning("Could not announce to other nodes", metadata: ["error": "\(error)"])
            }
        }
    }

    /// A payload from the channel: the node's own heartbeat, or another node's message.
    private func received(_ payload: String) async {
        guard let received = RelayMessage.decode(payload) else { return }
        if received.message == .heartbeat {
            if received.node == node { listener.heardOwnHeartbeat() }
            return
        }
        guard received.node != node else { return }
        switch received.message {
        case .heartbeat: break
        case .messages(let ranges): await delivery.deliverAnnounced(ranges)
        case .chatEvent(let chat, let frame): fanout.deliver(HubFrames.ChatFrame(bytes: ByteBuffer(string: frame), chat: chat, seq: 0), to: chat)
        case .personEvent(let person, let frame):
            fanout.deliver(HubFrames.ChatFrame(bytes: ByteBuffer(string: frame), chat: 0, seq: 0), toPerson: person)
        case .membershipChanged(let people): await sessions.refreshMemberships(of: people)
        case .sessionsEnded(let ended): for session in ended { sessions.endSessions(of: session.person, token: session.token) }
        case .stored(let id): await receivedStored(id)
        }
    }

    /// A long payload another node kept in the database: read it back and take it as if it had come itself.
    private func receivedStored(_ id: Int64) async {
        do {
            guard let payload = try await database.storedPayload(id) else { return }
            await received(payload)
        } catch {
            logger.warning("Could not read a long event another node announced", metadata: ["error": "\(error)"])
        }
    }

    /// Listens until the node shuts down; catches every watched chat up whenever it listens (again), sweeps them and
    /// prunes kept payloads every other heartbeat.
    func run() async {
        let delivery = self.delivery, database = self.database
        await listener.run(
            onListening: { await delivery.sweep() },
            handle: { await self.received($0) },
            everyOtherHeartbeat: {
                await delivery.sweep()
                try? await database.pruneStoredPayloads(olderThan: .seconds(600))
            }
        )
    }
}

/// Runs the relay's listener beside the server.
struct ClusterRelayService: Service {
    let relay: ClusterRelay

    func run() async throws {
        await cancelWhenGracefulShutdown { await relay.run() }
    }
}
