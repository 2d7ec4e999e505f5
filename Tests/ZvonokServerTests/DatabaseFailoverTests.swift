import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Testing
import ZvonokCore
import ZvonokStorage
import ZvonokTestSupport

/// A multi-host `--database-url` (pg_auto_failover's form): the server serves the host that accepts writes and
/// follows it when another one takes over. Played by two clusters of the test's own whose read-only setting is
/// switched, as a promotion and a demotion switch it; `Tests/ha/failover.sh` does it with pg_auto_failover itself.
@Suite struct DatabaseFailoverTests {
    @Test func theServerFollowsTheWritableHostAndSaysSoInHealthAndMetrics() async throws {
        let (port1, port2) = (try freeLoopbackPort(), try freeLoopbackPort())
        try await PrivateCluster.with(loopbackPort: port1) { first in
            try await PrivateCluster.with(loopbackPort: port2) { second in
                try await Self.setReadOnly(second, true)
                let database = first.url.configuration.database ?? "postgres", user = first.url.configuration.username
                let url = try DatabaseURL("postgres://\(user)@127.0.0.1:\(port1),127.0.0.1:\(port2)/\(database)?target_session_attrs=read-write")
                try await withTestServer(on: url) { api in
                    try await Self.expectServing(api, "127.0.0.1:\(port1)", failovers: 0)
                    try await Self.expectWritesLand(on: first, through: url)
                    try await Self.setReadOnly(first, true)
                    try await Self.setReadOnly(second, false)
                    try await Self.expectServing(api, "127.0.0.1:\(port2)", failovers: 1)
                    try await Self.expectWritesLand(on: second, through: url)
                    let metrics = try await api.client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                    #expect(metrics.contains("zvonok_db_primary{host=\"127.0.0.1:\(port2)\"} 1"))
                    #expect(metrics.contains("zvonok_db_failovers_total"))
                }
            }
        }
    }

    @Test func noWritableHostIsUnavailableNotAGuess() async throws {
        let (port1, port2) = (try freeLoopbackPort(), try freeLoopbackPort())
        try await PrivateCluster.with(loopbackPort: port1) { first in
            try await Self.setReadOnly(first, true)
            let name = first.url.configuration.database ?? "postgres", user = first.url.configuration.username
            // The second host does not exist: nothing accepts writes, so nothing is served, and a query says so in time.
            let url = try DatabaseURL("postgres://\(user)@127.0.0.1:\(port1),127.0.0.1:\(port2)/\(name)?target_session_attrs=read-write")
            let database = Database(url: url, logger: testLogger, timeouts: .init(lease: .seconds(1)))
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await database.run() }
                defer { group.cancelAll() }
                await #expect(throws: ZvonokError.self) { try await database.query("SELECT 1") }
                #expect(database.primary == nil)
            }
        }
    }

    /// Waits (at most 15 s) until `/health` names `primary` and `failovers`.
    private static func expectServing(_ api: APIClient, _ primary: String, failovers: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(15)
        var last: Answer?
        while ContinuousClock.now < deadline {
            last = try await api.get("/health", token: nil)
            if last?.string("primary") == primary, last?["failovers"] as? Int == failovers, last?.status == .ok { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("/health never named \(primary) with \(failovers) failovers: \(String(describing: last?.json))")
    }

    /// A row written through `url` is found on `cluster` itself.
    private static func expectWritesLand(on cluster: PrivateCluster, through url: DatabaseURL) async throws {
        let marker = "failover-\(UUID().uuidString)"
        try await withRunningDatabase(url) { database in _ = try await database.storePayload(marker) }
        let found = try await withRunningDatabase(cluster.url) { database in
            try await database.query("SELECT count(*) FROM relay_payloads WHERE payload = \(marker)").decode(Int.self).first { _ in true }
        }
        #expect(found == 1)
    }

    /// Makes every new session of `cluster` read-only (a standby, as far as a client can tell), or writable again.
    private static func setReadOnly(_ cluster: PrivateCluster, _ readOnly: Bool) async throws {
        try await withRunningDatabase(cluster.url) { database in
            try await database.query(
                readOnly ? "ALTER SYSTEM SET default_transaction_read_only = on" : "ALTER SYSTEM RESET default_transaction_read_only")
            try await database.query("SELECT pg_reload_conf()")
        }
    }
}
