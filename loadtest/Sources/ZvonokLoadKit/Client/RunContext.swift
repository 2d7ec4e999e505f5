import Foundation
import NIOCore
import Synchronization

/// What every connection of one run shares: the scenario's settings, the per-chat ledgers, and the HTTP API for
/// catching up through history when the server does not (yet) answer `sync`.
final class RunContext: Sendable {
    struct Configuration: Sendable {
        /// Whether connections go away and come back (`schoolday`): a 4008 close is then expected, and a returning
        /// connection syncs what it missed.
        var reconnects = false
        /// Whether to track each message's arrival at its last recipient (`fanout`).
        var trackLastRecipient = false
        /// Closed-loop mode: sends each connection keeps outstanding (0: open loop, sends come from the schedule).
        var window = 0
        /// Characters of filler after the time stamp in every text.
        var textSize = 40
        /// Hub nodes the connections are spread over (person `i` on node `i % nodes`).
        var nodes = 1
        /// Whether a send answered `unavailable` (the database failing over, say) is sent again with the same `cid`
        /// until acknowledged, as a real client does, instead of counting as an error frame.
        var retryUnavailable = false
        /// Who may post in which kind of chat (contract §4).
        var mayPost: @Sendable (_ role: LoadSetup.Role, _ kind: String) -> Bool = { _, kind in kind != "school" && kind != "municipality" }
    }

    let configuration: Configuration
    let api: HTTPAPI?
    /// Distinguishes this run's `cid`s from an earlier run's with the same people.
    let nonce = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    let filler: String
    private let ledgers = Mutex<[String: ChatLedger]>([:])
    /// Whether the closed loop should still send.
    let sending = Atomic<Bool>(false)
    /// The longest wait between two acknowledgements of the run, on any connection.
    let ackSilence = AckSilence()

    init(configuration: Configuration, api: HTTPAPI?) {
        self.configuration = configuration
        self.api = api
        let words = "zvonok load test message filler text "
        filler = String(String(repeating: words, count: configuration.textSize / words.count + 1).prefix(configuration.textSize))
    }

    /// The ledger of `chat`, made on first sight with the seq the chat stood at; counts the members seen.
    func ledger(_ chat: String, baseline: Int) -> ChatLedger {
        ledgers.withLock { ledgers in
            if let ledger = ledgers[chat] {
                ledger.addMember()
                return ledger
            }
            let ledger = ChatLedger(id: chat, baseline: baseline)
            ledger.addMember()
            ledgers[chat] = ledger
            return ledger
        }
    }

    var allLedgers: [ChatLedger] { ledgers.withLock { Array($0.values) } }
}

/// The longest time between two consecutive acknowledgements, whichever connections they came on: under steady load,
/// the time the hub acknowledged nothing (a database failover, say).
final class AckSilence: Sendable {
    private let state = Mutex<(last: UInt64?, longest: UInt64)>((nil, 0))

    /// Notes an acknowledgement at `now` (uptime nanoseconds).
    func acknowledged(at now: UInt64) {
        state.withLock { state in
            if let last = state.last, now > last { state.longest = max(state.longest, now - last) }
            state.last = max(state.last ?? 0, now)
        }
    }

    /// The longest wait so far, in seconds.
    var longestSeconds: Double { Double(state.withLock { $0.longest }) / 1e9 }
}
