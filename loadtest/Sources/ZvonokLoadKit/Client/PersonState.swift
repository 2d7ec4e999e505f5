import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// One person of the synthetic structure as the load generator plays them: their token, their chats and what they
/// have seen of each, across however many connections they open. Lives on one event loop and is touched only
/// there, so nothing in it needs a lock.
final class PersonState: @unchecked Sendable {
    /// One chat as this person sees it.
    struct Track {
        var sequence: ChatSequence
        let ledger: ChatLedger
        let kind: String
    }

    let index: Int
    let token: String
    let role: LoadSetup.Role
    let loop: any EventLoop
    let stats: LoopStats
    let context: RunContext

    private(set) var connection: LoadConnection?
    private(set) var tracks: [String: Track] = [:]
    /// Chats this person may post in, by kind.
    private(set) var postable: [(chat: String, kind: String)] = []
    private(set) var outstanding = 0
    private var serial = 0
    /// Files uploaded beforehand, per chat, each carried by one send (`fanout --files`); empty: text only.
    var files: [String: [String]] = [:]
    /// A send not acknowledged yet, kept to be sent again (`retryUnavailable`).
    private struct Unacknowledged {
        let chat: String
        let intended: UInt64
        /// The file it carries (`fanout --files`): sent again with it.
        let file: String?
        /// When it was last written, and how often it was sent again for want of any answer.
        var written: NIODeadline
        var resent = 0
    }

    /// Sends not acknowledged yet, by `cid` (`retryUnavailable`).
    private var unacknowledged: [String: Unacknowledged] = [:]
    /// Set while the load generator itself closes the connection.
    var expectClose = false
    /// Set while away between a deliberate disconnect and the reconnect.
    var away = false

    init(index: Int, person: LoadSetup.Person, loop: any EventLoop, stats: LoopStats, context: RunContext) {
        self.index = index
        self.token = person.token
        self.role = person.role
        self.loop = loop
        self.stats = stats
        self.context = context
    }

    var isConnected: Bool { connection?.isOpen ?? false }
    var isSyncing: Bool { tracks.values.contains { $0.sequence.syncing } }

    func attach(_ connection: LoadConnection) {
        self.connection = connection
        expectClose = false
    }

    func connectionEnded(_ ended: LoadConnection) {
        if connection === ended { connection = nil }
        // Sends in flight on a closed connection are never acked here; the messages may still have been committed.
        outstanding = 0
        for chat in tracks.keys where tracks[chat]!.sequence.syncing { tracks[chat]!.sequence.abortSync() }
    }

    /// Closes the connection on purpose (a reconnect, or the end of the run).
    func disconnect() {
        expectClose = true
        connection?.close()
    }

    // MARK: Frames from the server

    func handleText(_ buffer: ByteBuffer, on connection: LoadConnection) {
        let scanner = FrameScanner(buffer)
        switch scanner.string("type") {
        case "msg":
            received(scanner)
        case "ack":
            acknowledged(scanner)
        case "ready":
            ready(buffer, on: connection)
        case "synced":
            if let chat = scanner.string("chat"), let seq = scanner.integer("seq") {
                endSync(chat, last: seq, fromHistory: false)
            }
        case "error":
            refused(scanner)
        default:
            break
        }
    }

    private func received(_ scanner: FrameScanner) {
        guard let chat = scanner.string("chat"), let seq = scanner.integer("seq") else { return }
        stats.add(\.delivered)
        var latency: UInt64?
        if let stamp = scanner.stampedNumber("text", prefix: UInt8(ascii: "t")) {
            let now = NIODeadline.now().uptimeNanoseconds
            latency = now > stamp ? now - stamp : 0
            stats.deliveryLatency.record(nanoseconds: latency!)
            if context.configuration.nodes > 1, let sender = scanner.nodeMark("text"), sender != node {
                stats.crossNodeLatency.record(nanoseconds: latency!)
            }
        }
        guard var track = tracks[chat] else { return }
        let outcome = track.sequence.receive(seq)
        tracks[chat] = track
        switch outcome {
        case .accepted:
            if context.configuration.trackLastRecipient, let latency, let last = track.ledger.delivered(seq, latency: latency) {
                stats.lastRecipientLatency.record(nanoseconds: last)
            }
        case .duplicate: stats.add(\.duplicates)
        case .reordered: stats.add(\.reordered)
        case .gap(let missing): stats.add(\.gaps, missing)
        case .held, .expectedRepeat: break
        }
    }

    private func acknowledged(_ scanner: FrameScanner) {
        if context.configuration.retryUnavailable, let cid = scanner.string("cid"), unacknowledged.removeValue(forKey: cid) == nil {
            return  // the answer to a copy sent again after a silence, the first one answered already: the same message
        }
        stats.add(\.acked)
        outstanding = max(0, outstanding - 1)
        context.ackSilence.acknowledged(at: NIODeadline.now().uptimeNanoseconds)
        if let stamp = scanner.stampedNumber("cid", prefix: UInt8(ascii: "t")) {
            let now = NIODeadline.now().uptimeNanoseconds
            stats.ackLatency.record(nanoseconds: now > stamp ? now - stamp : 0)
        }
        if let chat = scanner.string("chat"), let seq = scanner.integer("seq") {
            tracks[chat]?.ledger.acknowledge(seq)
            if context.configuration.window > 0, context.sending.load(ordering: .relaxed) {
                send(to: chat, intended: NIODeadline.now().uptimeNanoseconds)
            }
        }
    }

    private func refused(_ scanner: FrameScanner) {
        let code = scanner.string("code")
        let ref = scanner.string("ref")
        if let ref, ref.hasPrefix("sync-") {
            // A server without `sync` answers it as an unknown frame type: catch up through the history endpoint.
            historySync(String(ref.dropFirst(5)))
            return
        }
        if code == "unavailable", let ref, let send = unacknowledged[ref] {
            stats.add(\.retried)
            loop.scheduleTask(in: Self.retryDelay) { self.write(to: send.chat, cid: ref, intended: send.intended, file: send.file) }
            return
        }
        if code == "rate_limited" {
            stats.add(\.rateLimited)
        } else {
            stats.add(\.errorFrames)
        }
        if ref?.hasPrefix("t") == true { outstanding = max(0, outstanding - 1) }
    }

    private func ready(_ buffer: ByteBuffer, on connection: LoadConnection) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any],
            let chats = object["chats"] as? [[String: Any]]
        else {
            stats.add(\.errorFrames)
            connection.close()
            return
        }
        let returning = !tracks.isEmpty
        for chat in chats {
            guard let id = chat["id"] as? String else { continue }
            let lastSeq = chat["lastSeq"] as? Int ?? 0
            let kind = chat["kind"] as? String ?? ""
            if let track = tracks[id] {
                if lastSeq > track.sequence.seen { startSync(id) }
                continue
            }
            tracks[id] = Track(sequence: ChatSequence(seen: lastSeq), ledger: context.ledger(id, baseline: lastSeq), kind: kind)
            if context.configuration.mayPost(role, kind) { postable.append((id, kind)) }
            // A chat joined while away: everything in it is new.
            if returning, lastSeq > 0 { startSync(id) }
        }
        if returning { stats.add(\.reconnects) }
        connection.becameReady()
        if context.configuration.window > 0, context.sending.load(ordering: .relaxed) { fillWindow() }
    }

    // MARK: Catching up

    private func startSync(_ chat: String) {
        guard let connection, tracks[chat]?.sequence.syncing == false else { return }
        tracks[chat]!.sequence.beginSync()
        stats.add(\.syncs)
        var buffer = connection.allocator.buffer(capacity: 96)
        buffer.writeStaticString(#"{"type":"sync","chat":""#)
        buffer.writeString(chat)
        buffer.writeStaticString(#"","after":"#)
        buffer.writeString(String(tracks[chat]!.sequence.seen))
        buffer.writeStaticString(#","ref":"sync-"#)
        buffer.writeString(chat)
        buffer.writeStaticString(#""}"#)
        connection.sendText(buffer)
    }

    private func endSync(_ chat: String, last: Int, fromHistory: Bool) {
        guard tracks[chat] != nil else { return }
        let skipped = tracks[chat]!.sequence.endSync(last: last, fromHistory: fromHistory)
        if skipped > 0 { stats.add(\.gaps, skipped) }
    }

    /// Reads what came after `seen` from `GET /v1/chats/{id}/messages` (newest first, paged by cursor), then feeds it
    /// in order through the same checks as live frames.
    private func historySync(_ chat: String) {
        guard let api = context.api, let after = tracks[chat]?.sequence.seen else { return }
        stats.add(\.historySyncs)
        let token = token
        let loop = loop
        Task {
            var seqs: [Int] = []
            var cursor: String?
            do {
                pages: while true {
                    let page = try await api.send(
                        .GET, "/v1/chats/\(chat)/messages?limit=200" + (cursor.map { "&cursor=\($0)" } ?? ""), token: token
                    )
                    for item in page["items"] as? [[String: Any]] ?? [] {
                        guard let seq = item["seq"] as? Int else { continue }
                        if seq <= after { break pages }
                        seqs.append(seq)
                    }
                    guard let next = page["next"] as? String else { break }
                    cursor = next
                }
            } catch {
                loop.execute { self.stats.add(\.errorFrames) }
            }
            let found = seqs
            loop.execute {
                var delivered = 0
                for seq in found.reversed() {
                    guard var track = self.tracks[chat] else { return }
                    let outcome = track.sequence.receive(seq)
                    self.tracks[chat] = track
                    switch outcome {
                    case .accepted: delivered += 1
                    case .duplicate: self.stats.add(\.duplicates)
                    case .reordered: self.stats.add(\.reordered)
                    case .gap(let missing): self.stats.add(\.gaps, missing)
                    case .held, .expectedRepeat: break
                    }
                }
                self.stats.add(\.delivered, delivered)
                self.endSync(chat, last: found.first ?? after, fromHistory: true)
            }
        }
    }

    // MARK: Sending

    /// The node this person connects to (see `Target.nodes`).
    var node: Int { index % context.configuration.nodes }

    /// Sends one message to `chat`, stamped with the time it was meant to go (for the open loop, the schedule's
    /// time, so that a late send still counts its delay).
    func send(to chat: String, intended: UInt64) {
        guard let connection, connection.isOpen else { return }
        serial += 1
        outstanding += 1
        let cid = "t\(intended)-\(context.nonce)-\(serial)"
        let file = files[chat]?.popLast()
        if context.configuration.retryUnavailable {
            unacknowledged[cid] = Unacknowledged(chat: chat, intended: intended, file: file, written: .now())
            loop.scheduleTask(in: Self.answerWait) { self.resendIfUnanswered(cid) }
        }
        write(to: chat, cid: cid, intended: intended, file: file)
        stats.add(\.sent)
    }

    /// How long a send answered `unavailable` waits before it goes again.
    static let retryDelay = TimeAmount.milliseconds(200)
    /// How long a client waits for any answer to a send before it sends it again (same `cid`), and how often.
    static let answerWait = TimeAmount.seconds(15)
    static let maximumResends = 3

    /// Sends `cid` again when nothing at all answered it for `answerWait` (a client's time-out), as a client does.
    private func resendIfUnanswered(_ cid: String) {
        guard let pending = unacknowledged[cid], pending.resent < Self.maximumResends else { return }
        guard NIODeadline.now() - pending.written >= Self.answerWait else {
            loop.scheduleTask(deadline: pending.written + Self.answerWait) { self.resendIfUnanswered(cid) }
            return
        }
        unacknowledged[cid]?.resent += 1
        stats.add(\.resent)
        write(to: pending.chat, cid: cid, intended: pending.intended, file: pending.file)
        loop.scheduleTask(in: Self.answerWait) { self.resendIfUnanswered(cid) }
    }

    /// Writes one `send` frame (again, for a retry: same `cid`, same text, same file).
    private func write(to chat: String, cid: String, intended: UInt64, file: String?) {
        guard let connection, connection.isOpen else { return }
        unacknowledged[cid]?.written = .now()
        var buffer = connection.allocator.buffer(capacity: 120 + context.filler.utf8.count)
        buffer.writeStaticString(#"{"type":"send","chat":""#)
        buffer.writeString(chat)
        buffer.writeStaticString(#"","cid":""#)
        buffer.writeString(cid)
        buffer.writeStaticString(#"","text":"t"#)
        buffer.writeString(String(intended))
        buffer.writeStaticString("n")
        buffer.writeString(String(node))
        buffer.writeStaticString(" ")
        buffer.writeString(context.filler)
        if let file {
            buffer.writeStaticString(#"","files":[""#)
            buffer.writeString(file)
            buffer.writeStaticString(#""]}"#)
        } else {
            buffer.writeStaticString(#""}"#)
        }
        connection.sendText(buffer)
    }

    /// Closed loop: keeps `window` sends outstanding, spread over the chats this person may post in.
    func fillWindow() {
        guard !postable.isEmpty else { return }
        while outstanding < context.configuration.window, isConnected {
            send(to: postable[serial % postable.count].chat, intended: NIODeadline.now().uptimeNanoseconds)
        }
    }

    /// Whether this person has seen every acknowledged message of every chat; returns what is missing.
    func unseenAcknowledged() -> Int {
        var unseen = 0
        for track in tracks.values {
            let acked = track.ledger.maxAcked
            if !track.sequence.hasSeen(upTo: acked) {
                unseen += max(acked - track.sequence.seen, 0) + track.sequence.missing.filter { $0 <= acked }.count
            }
        }
        return unseen
    }
}
