import Synchronization

/// What the load generator knows of one chat across all its connections: which seqs were acknowledged (each must be
/// unique, and every member must end up having seen them all), and, in `fanout`, how long each message took to
/// reach its last recipient.
final class ChatLedger: Sendable {
    let id: String
    private let state: Mutex<State>

    private struct State {
        var acked: Set<Int> = []
        var maxAcked = 0
        var duplicateAcks = 0
        /// Per message in flight: recipients so far and the latest latency among them.
        var arriving: [Int: (count: Int, latest: UInt64)] = [:]
        var recipients = 0
        var members = 0
    }

    init(id: String, baseline: Int) {
        self.id = id
        state = Mutex(State(maxAcked: baseline))
    }

    /// An `ack` for this chat; false when the seq had been acknowledged before for another send.
    @discardableResult
    func acknowledge(_ seq: Int) -> Bool {
        state.withLock { state in
            state.maxAcked = max(state.maxAcked, seq)
            guard state.acked.insert(seq).inserted else {
                state.duplicateAcks += 1
                return false
            }
            return true
        }
    }

    /// Tracks time to the last recipient for messages that `recipients` connections receive.
    func expectRecipients(_ recipients: Int) {
        state.withLock { $0.recipients = recipients }
    }

    /// One recipient's `msg`, with its latency; returns the send-to-last-recipient latency when it completes the set.
    func delivered(_ seq: Int, latency: UInt64) -> UInt64? {
        state.withLock { state in
            guard state.recipients > 0 else { return nil }
            var entry = state.arriving[seq] ?? (0, 0)
            entry.count += 1
            entry.latest = max(entry.latest, latency)
            if entry.count >= state.recipients {
                state.arriving[seq] = nil
                return entry.latest
            }
            state.arriving[seq] = entry
            return nil
        }
    }

    /// A connection whose `ready` listed this chat.
    func addMember() {
        state.withLock { $0.members += 1 }
    }

    /// Connections whose `ready` listed this chat.
    var members: Int { state.withLock { $0.members } }

    var maxAcked: Int { state.withLock { $0.maxAcked } }
    var duplicateAcks: Int { state.withLock { $0.duplicateAcks } }
    /// Messages some, but not all, recipients received.
    var incomplete: Int { state.withLock { $0.arriving.count } }
}
