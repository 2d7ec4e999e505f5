import Foundation
import Testing
import ZvonokStorage
import ZvonokTestSupport

/// The first start on an empty database (issue 21's embedded default, any new deployment): the server applies `sql/`
/// before it serves, and its background work — the activity applier, the notification sender and presence, the
/// keepers — waits for that instead of meeting tables that are not made yet.
@Suite struct FirstStartTests {
    @Test func backgroundWorkWaitsForTheMigrationsAndLogsNoError() async throws {
        let (url, name) = try await TestCluster.shared.makeEmptyDatabase()
        let server = ServerProcess(
            databaseURL: url.description, port: try freeLoopbackPort(), logLevel: "info", extraArguments: ["--activity-interval", "0.1"])
        try await server.start()
        // Long enough for every early loop to have stepped several times: presence (1 s), the sender (250 ms), the
        // applier (100 ms here).
        try await Task.sleep(for: .seconds(3))
        await server.stop()
        try await TestCluster.shared.dropDatabase(name)
        let log = server.log
        #expect(log.contains("Database schema is current"), "the log was read")
        let complaints = log.split(separator: "\n").filter { $0.contains(" error ") || $0.contains(" warning ") }
        #expect(complaints.isEmpty, "\(complaints.joined(separator: "\n"))")
    }
}
