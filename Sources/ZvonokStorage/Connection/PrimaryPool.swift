import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The connection pool of the database's primary. With one host, that host's pool, run as it is (postgres-nio
/// reconnects to it by itself). With several, or `target_session_attrs=read-write` (pg_auto_failover's URL), the pool
/// of whichever host accepts writes: checked every `checkInterval` over a connection of its own, and replaced by a
/// pool on the new primary once it stops being one (a failover). Operations in flight on the old pool fail with
/// `unavailable` — never a guess — and later ones go to the new primary.
final class PrimaryPool: Sendable {
    /// How often the primary is asked whether it still is one, and how often the hosts are asked while none is.
    static let checkInterval: Duration = .milliseconds(500)
    /// The longest a host may take to connect and answer that question.
    static let probeTimeout: Duration = .seconds(2)
    /// Failed checks in a row after which the primary is given up: a dead one fails each at once (its port refuses
    /// connections), so this costs a dead primary one `checkInterval` more than a single check would.
    static let failedChecksToLeave = 2

    /// The host being served, and how many times it changed since start.
    struct Status: Sendable {
        var primary: DatabaseURL.Endpoint?
        var failovers: Int
    }

    private struct State {
        var client: PostgresClient
        var primary: DatabaseURL.Endpoint?
        var failovers = 0
        /// Callers of `current()` before the first primary was found.
        var waiting: [CheckedContinuation<PostgresClient, Never>] = []
        var gauge: Gauge?
    }

    private let url: DatabaseURL
    private let logger: Logger
    private let makeClient: @Sendable (DatabaseURL.Endpoint) -> PostgresClient
    private let state: Mutex<State>
    /// Connections lent out of the pool, by a token (see `lend`).
    private let lent = Mutex<(next: Int, connections: [Int: PostgresConnection])>((0, [:]))
    /// What to call when the primary is given up, by a token (see `whenLost`).
    private let onLoss = Mutex<(next: Int, actions: [Int: @Sendable () -> Void])>((0, [:]))

    /// Whether the primary is looked for and followed; false for a single host without `read-write`.
    var follows: Bool { url.endpoints.count > 1 || url.targetSession == .readWrite }

    init(url: DatabaseURL, logger: Logger, makeClient: @escaping @Sendable (DatabaseURL.Endpoint) -> PostgresClient) {
        self.url = url
        self.logger = logger
        self.makeClient = makeClient
        state = Mutex(State(client: makeClient(url.endpoints[0]), primary: nil))
    }

    /// The pool in use now; before the first primary was found, the first host's, which is not running yet.
    var client: PostgresClient { state.withLock { $0.client } }

    var status: Status { state.withLock { Status(primary: $0.primary, failovers: $0.failovers) } }

    /// The pool in use now, once a primary was found — with one host, once its pool runs (at start, this waits for it).
    func current() async -> PostgresClient {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> PostgresClient? in
                guard state.primary != nil else {
                    state.waiting.append(continuation)
                    return nil
                }
                return state.client
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Runs the pool of the current primary, and follows the primary when it changes, until cancelled or shut down.
    /// A pool is served only once its `run()` has begun (it marks itself running before its first suspension, which an
    /// immediate task reaches before `install`): postgres-nio warns of every lease taken before that.
    func run() async {
        guard follows else {
            return await withDiscardingTaskGroup { group in
                group.addImmediateTask { await self.client.run() }
                install(client, serving: url.endpoints[0])
            }
        }
        await cancelWhenGracefulShutdown {
            var placeholder: PostgresClient? = self.client
            while !Task.isCancelled {
                guard let primary = await self.awaitPrimary() else { return }
                let client = placeholder.take().flatMap { primary == self.url.endpoints[0] ? $0 : nil } ?? self.makeClient(primary)
                await withTaskGroup(of: Void.self) { group in
                    group.addImmediateTask { await client.run() }
                    self.install(client, serving: primary)
                    await self.watch(primary)
                    self.closeLent()
                    group.cancelAll()
                }
            }
        }
    }

    /// Notes a connection lent out of the pool, to be closed if the primary is given up while it is out; returns the
    /// token to `giveBack` it with.
    ///
    /// Shutting a pool down closes only the connections it holds: one lent out and waiting for an answer that will never
    /// come (a server process that survived its machine's other processes, say) would hold its caller until
    /// `timeouts.operation`, and a listener until its heartbeat gives up. Closing them fails their work at once
    /// (`unavailable`).
    func lend(_ connection: PostgresConnection) -> Int {
        lent.withLock { lent in
            lent.next += 1
            lent.connections[lent.next] = connection
            return lent.next
        }
    }

    func giveBack(_ token: Int) {
        _ = lent.withLock { $0.connections.removeValue(forKey: token) }
    }

    /// Calls `action` once if the primary is given up before `forget(_:)` is called with the token returned.
    func whenLost(_ action: @escaping @Sendable () -> Void) -> Int {
        onLoss.withLock { onLoss in
            onLoss.next += 1
            onLoss.actions[onLoss.next] = action
            return onLoss.next
        }
    }

    func forget(_ token: Int) {
        _ = onLoss.withLock { $0.actions.removeValue(forKey: token) }
    }

    private func closeLent() {
        let connections = lent.withLock { lent in
            defer { lent.connections = [:] }
            return Array(lent.connections.values)
        }
        for connection in connections { connection.close().whenComplete { _ in } }
        let actions = onLoss.withLock { onLoss in
            defer { onLoss.actions = [:] }
            return Array(onLoss.actions.values)
        }
        for action in actions { action() }
    }

    /// Asks the hosts every `checkInterval` until one accepts the session; nil when cancelled first.
    private func awaitPrimary() async -> DatabaseURL.Endpoint? {
        let probe = PrimaryProbe(url: url, logger: logger, timeout: Self.probeTimeout)
        var announced = false
        while !Task.isCancelled {
            if let found = await probe.find() { return found }
            if !announced { logger.warning("No database host accepts writes; asking again every \(Self.checkInterval)") }
            announced = true
            try? await Task.sleep(for: Self.checkInterval)
        }
        return nil
    }

    /// Returns once `primary` failed `failedChecksToLeave` checks in a row (or when cancelled): one check that times
    /// out on a machine busy for a moment does not drop the pool.
    private func watch(_ primary: DatabaseURL.Endpoint) async {
        let probe = PrimaryProbe(url: url, logger: logger, timeout: Self.probeTimeout)
        var failed = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.checkInterval)
            guard !Task.isCancelled else { return }
            switch await probe.check(primary) {
            case .accepts:
                failed = 0
            case .refuses(let reason):
                failed += 1
                logger.warning("The database primary failed a check", metadata: ["host": "\(primary)", "reason": "\(reason)", "inARow": "\(failed)"])
                guard failed < Self.failedChecksToLeave else {
                    logger.warning("The database primary stopped serving; looking for the new one", metadata: ["host": "\(primary)"])
                    return
                }
            }
        }
    }

    /// Makes `client` the one in use and answers those waiting for it; a primary other than the last counts a failover.
    private func install(_ client: PostgresClient, serving primary: DatabaseURL.Endpoint) {
        let (waiting, previous) = state.withLock { state in
            let previous = state.primary
            state.client = client
            if let previous, previous != primary { state.failovers += 1 }
            state.primary = primary
            state.gauge?.record(0)
            state.gauge = Gauge(label: "zvonok_db_primary", dimensions: [("host", "\(primary)")])
            state.gauge?.record(1)
            defer { state.waiting = [] }
            return (state.waiting, previous)
        }
        // Made here, not in `init`: a metric made before the server bootstraps the metrics system would count nowhere.
        let failovers = Counter(label: "zvonok_db_failovers_total")
        if let previous, previous != primary {
            failovers.increment()
            logger.notice("Following the new database primary", metadata: ["host": "\(primary)", "previous": "\(previous)"])
        } else {
            logger.info("Serving the database primary", metadata: ["host": "\(primary)"])
        }
        for continuation in waiting { continuation.resume(returning: client) }
    }
}
