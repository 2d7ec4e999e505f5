import Logging
import NIOCore
import ZvonokCore
import ZvonokStorage

/// One client's side of the protocol (contract §5): handles its frames in the order they arrive and answers on its
/// own connection. Owned by the task handling the connection's messages (`HubInbox`), so its state needs no lock.
///
/// Sends are pipelined: a `send` is authorized and queued for the group commit at once, in arrival order, and its
/// `ack` follows the commit, so a client need not wait for one ack before sending the next message.
struct HubSession {
    let hub: MessagingHub
    let identity: Identity
    let connection: HubConnection
    /// Kinds of the chats this person is in, as far as seen (a chat's kind never changes).
    private var kinds: [Int64: ChatKind]
    /// History rows per `sync` batch: small enough to keep a frame burst short, large enough to be cheap.
    static let syncBatch = 200

    init(hub: MessagingHub, identity: Identity, connection: HubConnection, chats: [ChatSummary]) {
        self.hub = hub
        self.identity = identity
        self.connection = connection
        self.kinds = Dictionary(chats.map { ($0.id, $0.kind) }, uniquingKeysWith: { first, _ in first })
    }

    /// Handles one message of the client's; the hub speaks JSON text only.
    mutating func handle(_ message: HubInbox.Message) async {
        switch message {
        case .text(let text): await handle(text)
        case .binary: connection.send(HubFrames.error(.invalidArgument("frames are JSON text"), ref: nil))
        }
    }

    /// Handles one text frame; every refusal is answered with an `error` frame carrying the frame's `ref`.
    private mutating func handle(_ text: String) async {
        let decoded: (frame: HubFrames.Inbound, ref: String?)
        do {
            decoded = try HubFrames.decode(text)
        } catch {
            connection.send(HubFrames.error(error.error, ref: error.ref))
            return
        }
        do {
            try await handle(decoded.frame)
        } catch let error as ZvonokError {
            connection.send(HubFrames.error(error, ref: decoded.ref))
        } catch {
            hub.logger.warning("Frame failed", metadata: ["error": "\(error)"])
            connection.send(HubFrames.error(.unavailable(), ref: decoded.ref))
        }
    }

    private mutating func handle(_ inbound: HubFrames.Inbound) async throws {
        if let kind = inbound.limitedKind { try hub.admit(kind, from: identity.personID) }
        switch inbound {
        case .ping:
            connection.send(HubFrames.pong)
        case .send(let chat, let cid, let text):
            try await send(text, to: chat, cid: cid)
        case .sync(let chat, let after):
            try await sync(chat, after: after)
        case .read(let chat, let seq):
            try await markRead(chat, through: seq)
        case .edit(let chat, let seq, let text):
            _ = try await kind(of: chat)
            try await hub.edit(chat: chat, seq: seq, by: identity.personID, text: text)
        case .delete(let chat, let seq):
            _ = try await kind(of: chat)
            try await hub.delete(chat: chat, seq: seq, by: identity)
        case .typing(let chat):
            guard ChatPolicy.mayPost(role: identity.role, in: try await kind(of: chat)) else { return }
            hub.typing(in: chat, by: identity.personID, from: connection)
        }
    }

    /// Membership and posting rights here; sequencing and durability in the group commit.
    private mutating func send(_ text: String, to chat: Int64, cid: String) async throws {
        guard ChatPolicy.mayPost(role: identity.role, in: try await kind(of: chat)) else {
            throw ZvonokError.forbidden("only staff post in the school channel")
        }
        let connection = self.connection, logger = hub.logger
        hub.submit(PendingMessage(chatID: chat, senderID: identity.personID, cid: cid, text: text)) { result in
            switch result {
            case .success(let committed):
                connection.send(HubFrames.ack(committed))
            case .failure(let error as ZvonokError):
                connection.send(HubFrames.error(error, ref: cid))
            case .failure(let error):
                logger.warning("Commit failed", metadata: ["error": "\(error)"])
                connection.send(HubFrames.error(.unavailable(), ref: cid))
            }
        }
    }

    /// Every message after `after`, read in batches as fast as the client takes them, then `synced`; live frames
    /// of the chat wait meanwhile and follow without gap or duplicate (`ResumeGate`).
    private func sync(_ chat: Int64, after: Int64) async throws {
        guard hub.follows(identity.personID, chat: chat) else { throw ZvonokError.notFound("no such chat") }
        guard connection.beginSync(of: chat) else { throw ZvonokError.conflict("a sync of this chat is already running") }
        var last = after
        do {
            while true {
                let batch = try await hub.history(of: chat, after: last, limit: Self.syncBatch)
                for message in batch { connection.send(HubFrames.msg(message).bytes) }
                last = batch.last?.seq ?? last
                guard batch.count == Self.syncBatch else { break }
                await connection.waitForRoom()
                if connection.isClosing { return }
            }
        } catch {
            connection.cancelSync(of: chat)
            throw error
        }
        connection.finishSync(of: chat, through: last, synced: HubFrames.synced(chat: chat, seq: last))
    }

    /// Moves the read mark (who sees it depends on the chat's kind: `MessagingHub.markRead`).
    private mutating func markRead(_ chat: Int64, through seq: Int64) async throws {
        try await hub.markRead(chat: chat, kind: try await kind(of: chat), by: identity.personID, through: seq)
    }

    /// The kind of a chat the person is in now (404 otherwise, as for a chat that does not exist).
    private mutating func kind(of chat: Int64) async throws -> ChatKind {
        guard hub.follows(identity.personID, chat: chat) else { throw ZvonokError.notFound("no such chat") }
        if let kind = kinds[chat] { return kind }
        // Joined since connecting: ask once.
        guard let kind = try await hub.kind(of: chat, for: identity.personID) else {
            throw ZvonokError.notFound("no such chat")
        }
        kinds[chat] = kind
        return kind
    }
}
