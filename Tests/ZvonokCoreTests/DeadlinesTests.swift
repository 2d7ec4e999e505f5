import Synchronization
import Testing
import ZvonokCore

/// The shared deadlines that bound every database operation: they fire once due, never when disarmed, and the
/// sweeper comes back after it stopped for want of work.
@Suite struct DeadlinesTests {
    /// Fired deadlines, by name, in the order they fired.
    final class Log: Sendable {
        private let names = Mutex<[String]>([])
        func add(_ name: String) { names.withLock { $0.append(name) } }
        var fired: [String] { names.withLock { $0 } }

        /// Waits until `name` fired, up to `limit`.
        func waitFor(_ name: String, within limit: Duration = .seconds(5)) async -> Bool {
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline {
                if fired.contains(name) { return true }
                try? await Task.sleep(for: .milliseconds(10))
            }
            return false
        }
    }

    @Test func aDeadlineFiresOnceDueAndNotBefore() async {
        let deadlines = Deadlines(resolution: .milliseconds(20))
        let log = Log()
        let start = ContinuousClock.now
        _ = deadlines.arm(after: .milliseconds(300)) { log.add("late") }
        _ = deadlines.arm(after: .milliseconds(10)) { log.add("soon") }
        #expect(await log.waitFor("soon"))
        #expect(!log.fired.contains("late") || ContinuousClock.now - start >= .milliseconds(300))
        #expect(await log.waitFor("late"))
        #expect(ContinuousClock.now - start >= .milliseconds(300))
        // Once each (on a loaded machine one late sweep may fire both, in either order).
        #expect(log.fired.sorted() == ["late", "soon"])
    }

    @Test func aDisarmedDeadlineNeverFires() async throws {
        let deadlines = Deadlines(resolution: .milliseconds(20))
        let log = Log()
        let ticket = deadlines.arm(after: .milliseconds(50)) { log.add("disarmed") }
        _ = deadlines.arm(after: .milliseconds(150)) { log.add("kept") }
        deadlines.disarm(ticket)
        #expect(await log.waitFor("kept"))
        try await Task.sleep(for: .milliseconds(100))
        #expect(log.fired == ["kept"])
    }

    @Test func armingAfterTheSweeperStoppedStillFires() async throws {
        let deadlines = Deadlines(resolution: .milliseconds(10))
        let log = Log()
        _ = deadlines.arm(after: .milliseconds(10)) { log.add("first") }
        #expect(await log.waitFor("first"))
        try await Task.sleep(for: .milliseconds(100))  // nothing armed: the sweeper has ended
        _ = deadlines.arm(after: .milliseconds(10)) { log.add("second") }
        #expect(await log.waitFor("second"))
    }

    @Test func withTimeoutOnSharedDeadlinesGivesUpOnSlowWorkOnly() async throws {
        let deadlines = Deadlines(resolution: .milliseconds(10))
        let quick = try await withTimeout(.seconds(2), deadlines: deadlines) { 42 }
        #expect(quick == 42)
        await #expect(throws: TimeoutError.self) {
            try await withTimeout(.milliseconds(50), deadlines: deadlines) {
                try await Task.sleep(for: .seconds(30))
                return 0
            }
        }
    }
}
