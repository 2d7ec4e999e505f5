import Logging
import ServiceLifecycle
import ZvonokCore
import ZvonokStorage

/// Keeps this node's open connections in step with sessions and memberships changed anywhere: a session that ended
/// (signed out, revoked, expired, its person removed) has its connections closed with 4001; a person whose chats
/// changed has their connections follow the new chats, receiving from and posting to those only.
///
/// Changes arrive as notifications (from this node's routes, or from other nodes through `ClusterRelay`) and are
/// acted on at once. A periodic check (`interval`) compares every connected person's membership version and every
/// connection's token with the database, so a lost notification — a listener that dropped, a node that crashed
/// after its commit — is healed within one check.
final class SessionGuard: Sendable {
    private let fanout: FanoutHub<HubConnection>
    private let memberships: MembershipStore
    private let credentials: CredentialStore
    private let logger: Logger
    /// Time between checks.
    let interval: Duration
    /// People and tokens per look-up in a check.
    static let chunk = 5_000

    init(fanout: FanoutHub<HubConnection>, memberships: MembershipStore, credentials: CredentialStore, interval: Duration, logger: Logger) {
        self.fanout = fanout
        self.memberships = memberships
        self.credentials = credentials
        self.interval = interval
        self.logger = logger
    }

    /// Reads the chats of those of `people` who are connected here and moves their connections to them. A read older
    /// than what the node follows already is dropped (`FanoutHub.replaceChats`).
    func refreshMemberships(of people: some Sequence<Int64>) async {
        let connected = people.filter { fanout.sessionCount(of: $0) > 0 }
        for part in connected.chunks(of: Self.chunk) {
            do {
                let read = try await memberships.memberships(of: Array(part))
                for (person, membership) in read {
                    fanout.replaceChats(of: person, with: membership.chats, version: membership.version)
                }
            } catch {
                logger.warning("Could not read changed memberships; the next check retries", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Closes the connections of `person` here with 4001: all of them, or those of one token.
    func endSessions(of person: Int64, token: Int64? = nil) {
        for connection in fanout.sinks(of: person) where token == nil || connection.tokenID == token {
            connection.close(HubCloseCode.sessionEnded)
        }
    }

    /// One check: memberships whose version moved, and sessions that ended, without a notification saying so.
    func check() async {
        do {
            let followed = fanout.membershipVersions()
            var stale: [Int64] = []
            for part in followed.chunks(of: Self.chunk) {
                let current = try await memberships.versions(of: part.map(\.person))
                stale += part.filter { (current[$0.person] ?? 0) > $0.version }.map(\.person)
            }
            await refreshMemberships(of: stale)
            var connections: [HubConnection] = []
            fanout.forEachSink { connections.append($0) }
            let tokens = Array(Set(connections.map(\.tokenID)))
            var ended: Set<Int64> = []
            for part in tokens.chunks(of: Self.chunk) {
                ended.formUnion(try await credentials.endedSessions(among: Array(part)))
            }
            for connection in connections where ended.contains(connection.tokenID) {
                connection.close(HubCloseCode.sessionEnded)
            }
        } catch {
            logger.warning("Could not check sessions and memberships; the next check retries", metadata: ["error": "\(error)"])
        }
    }

    /// Checks every `interval` until cancelled.
    func checkEveryInterval() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled else { return }
            await check()
        }
    }
}

/// Runs the session guard's periodic check beside the server.
struct SessionGuardService: Service {
    let sessions: SessionGuard

    func run() async throws {
        await cancelWhenGracefulShutdown { await sessions.checkEveryInterval() }
    }
}
