import Logging
import Metrics
import NIOCore
import ZvonokCore
import ZvonokStorage

/// The data path of the hub: frame in → authorize → sequence and persist (group commit) → fan out → frames out.
final class MessagingHub: Sendable {
    let fanout = FanoutHub<HubConnection>()
    let committer: GroupCommitter
    let chats: ChatStore
    let messages: MessageStore
    let logger: Logger
    /// Open WebSocket connections on this node, for `/metrics`.
    let connections = Meter(label: "zvonok_websocket_connections")

    init(database: Database, logger: Logger) {
        let messages = MessageStore(database: database)
        let fanout = self.fanout
        self.messages = messages
        self.chats = ChatStore(database: database)
        self.logger = logger
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

    /// Registers a connection for every chat of its person and returns the `ready` frame.
    func connect(_ connection: HubConnection) async throws -> ByteBuffer {
        var all: [ChatSummary] = []
        var after: Int64 = 0
        while true {
            let page = try await chats.chats(of: connection.personID, after: after, limit: 500)
            all += page
            guard page.count == 500, let last = page.last else { break }
            after = last.id
        }
        fanout.register(connection, person: connection.personID, chats: all.map(\.id))
        connections.increment()
        return HubFrames.ready(user: connection.personID, chats: all)
    }

    func disconnect(_ connection: HubConnection) {
        fanout.unregister(connection, person: connection.personID)
        connections.decrement()
    }

    /// Structural changes from the registration API reach open connections at once.
    func apply(_ changes: [MembershipChange]) {
        fanout.apply(changes)
    }

    /// Handles one client frame; the answer (ack, pong or error) goes to the connection's own queue.
    func handle(_ text: String, from connection: HubConnection, identity: Identity) async {
        let inbound: HubFrames.Inbound
        do {
            inbound = try HubFrames.decode(text)
        } catch {
            connection.enqueue(HubFrames.error(error.error, ref: error.ref))
            return
        }
        switch inbound {
        case .ping:
            connection.enqueue(HubFrames.pong)
        case .send(let chat, let cid, let text):
            do {
                try await authorizeSend(identity, to: chat)
                let committed = try await committer.submit(PendingMessage(chatID: chat, senderID: identity.personID, cid: cid, text: text))
                connection.enqueue(HubFrames.ack(committed))
            } catch let error as ZvonokError {
                connection.enqueue(HubFrames.error(error, ref: cid))
            } catch {
                logger.warning("Send failed", metadata: ["error": "\(error)"])
                connection.enqueue(HubFrames.error(.unavailable(), ref: cid))
            }
        }
    }

    /// Members only, and only staff post in the school channel.
    private func authorizeSend(_ identity: Identity, to chat: Int64) async throws {
        guard let kind = try await messages.membershipKind(of: identity.personID, in: chat) else {
            throw ZvonokError.notFound("no such chat")
        }
        guard ChatPolicy.mayPost(role: identity.role, in: kind) else {
            throw ZvonokError.forbidden("only staff post in the school channel")
        }
    }
}
