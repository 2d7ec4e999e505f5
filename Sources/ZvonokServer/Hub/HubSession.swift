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
        guard let decoded = decode(message) else { return }
        do {
            try await handle(decoded.frame)
        } catch {
            answer(error, ref: decoded.ref)
        }
    }

    /// Handles a message on the spot, without suspending, when every check it needs is in memory: a `ping`, and a
    /// `send` or `typing` to a chat whose kind is known (or that the person is not in), and any malformed frame.
    /// That is nearly every frame of a connected client, so most messages take no task and no hop between threads
    /// (issue 16). Returns false, having done nothing, when the message needs the database (`sync`, `read`, `edit`,
    /// `delete`, a chat joined since connecting): then `handle` is to run it in a task, decoding it again (a small
    /// price for the rarer frames, against carrying decoded frames through the inbox).
    func handleAtOnce(_ message: HubInbox.Message) -> Bool {
        guard let decoded = decode(message) else { return true }
        do {
            return try handleAtOnce(decoded.frame)
        } catch {
            answer(error, ref: decoded.ref)
            return true
        }
    }

    /// The frame in a message, or nil once a malformed one is answered with an `error` frame.
    private func decode(_ message: HubInbox.Message) -> (frame: HubFrames.Inbound, ref: String?)? {
        guard case .text(let text) = message else {
            connection.send(HubFrames.error(.invalidArgument("frames are JSON text"), ref: nil))
            return nil
        }
        do {
            return try HubFrames.decode(text)
        } catch {
            connection.send(HubFrames.error(error.error, ref: error.ref))
            return nil
        }
    }

    /// Every refusal is answered with an `error` frame carrying the frame's `ref`.
    private func answer(_ error: any Error, ref: String?) {
        if let error = error as? ZvonokError {
            connection.send(HubFrames.error(error, ref: ref))
        } else {
            hub.logger.warning("Frame failed", metadata: ["error": "\(error)"])
            connection.send(HubFrames.error(.unavailable(), ref: ref))
        }
    }

    private mutating func handle(_ inbound: HubFrames.Inbound) async throws {
        try admit(inbound)
        switch inbound {
        case .ping:
            connection.send(HubFrames.pong)
        case .send(let chat, let cid, let text, let fileIDs, let urgent):
            let kind = try await kind(of: chat)
            try mayPost(in: kind)
            let files = try await hub.attach(fileIDs, to: chat, by: identity.personID, cid: cid)
            if urgent { try await markUrgent(cid, in: chat) }
            try send(text, files: files, to: chat, cid: cid, kind: kind)
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
            typing(in: chat, kind: try await kind(of: chat))
        }
    }

    /// `handle(_:)` for the frames that need nothing from the database; false for the others.
    private func handleAtOnce(_ inbound: HubFrames.Inbound) throws -> Bool {
        switch inbound {
        case .ping:
            try admit(inbound)
            connection.send(HubFrames.pong)
        case .send(let chat, let cid, let text, let files, let urgent):
            // Files are looked up, and an urgent send recorded, in the database first.
            guard files.isEmpty, !urgent, let kind = knownKind(of: chat) else { return false }
            try admit(inbound)
            try send(text, to: chat, cid: cid, kind: kind.get())
        case .typing(let chat):
            guard let kind = knownKind(of: chat) else { return false }
            typing(in: chat, kind: try kind.get())
        case .sync, .read, .edit, .delete:
            return false
        }
        return true
    }

    /// Takes one of the person's tokens for the frame's kind; `rate_limited` when there is none.
    private func admit(_ inbound: HubFrames.Inbound) throws {
        if let kind = inbound.limitedKind { try hub.admit(kind, from: identity.personID) }
    }

    /// Posting rights in a chat of `kind`.
    private func mayPost(in kind: ChatKind) throws(ZvonokError) {
        guard ChatPolicy.mayPost(role: identity.role, in: kind) else { throw .forbidden("only staff post in the school channel") }
    }

    /// Membership and posting rights here; sequencing and durability in the group commit.
    private func send(_ text: String, files: [AttachedFile] = [], to chat: Int64, cid: String, kind: ChatKind) throws {
        try mayPost(in: kind)
        let connection = self.connection, logger = hub.logger, quietHours = hub.quietHours
        hub.submit(PendingMessage(chatID: chat, senderID: identity.personID, cid: cid, text: text, files: files)) { result in
            switch result {
            case .success(let committed):
                quietHours.ack(committed, to: connection)
            case .failure(let error as ZvonokError):
                connection.send(HubFrames.error(error, ref: cid))
            case .failure(let error):
                logger.warning("Commit failed", metadata: ["error": "\(error)"])
                connection.send(HubFrames.error(.unavailable(), ref: cid))
            }
        }
    }

    /// Only admins mark a message urgent (where they may post, checked before); the mark is kept and audited before
    /// the send commits.
    private func markUrgent(_ cid: String, in chat: Int64) async throws {
        guard identity.role.isAdmin else { throw ZvonokError.forbidden("only admins mark messages urgent") }
        try await hub.markUrgent(cid: cid, in: chat, by: identity)
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
                for message in batch { connection.send(HubFrames.msg(message).wire) }
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

    /// Tells the others that the person is typing, where they may post.
    private func typing(in chat: Int64, kind: ChatKind) {
        guard ChatPolicy.mayPost(role: identity.role, in: kind) else { return }
        hub.typing(in: chat, by: identity.personID, from: connection)
    }

    /// The kind of a chat the person is in now (404 otherwise, as for a chat that does not exist).
    private mutating func kind(of chat: Int64) async throws -> ChatKind {
        if let known = knownKind(of: chat) { return try known.get() }
        // Joined since connecting: ask once.
        guard let kind = try await hub.kind(of: chat, for: identity.personID) else {
            throw ZvonokError.notFound("no such chat")
        }
        kinds[chat] = kind
        return kind
    }

    /// The chat's kind as far as known without the database (404 for a chat the person is not in); nil for a chat
    /// joined since connecting, whose kind is yet to be read.
    private func knownKind(of chat: Int64) -> Result<ChatKind, ZvonokError>? {
        guard hub.follows(identity.personID, chat: chat) else { return .failure(.notFound("no such chat")) }
        return kinds[chat].map { .success($0) }
    }
}
