import HummingbirdTesting
import Testing
import ZvonokLoadKit
import ZvonokServer

/// Each load scenario, run for a few seconds with small numbers against a live test server, so that the tool
/// cannot rot: the same code as `zvonok-load`, called in-process.
@Suite(.serialized) struct LoadScenarioSmokeTests {
    static func target(_ api: APIClient, sources: Int = 1) throws -> Target {
        var target = Target(server: "http://127.0.0.1:\(try #require(api.client.port))")
        target.progress = false
        target.threads = 2
        target.sourceAddresses = sources > 1 ? Target.loopbackSources(sources) : []
        return target
    }

    /// Runs `body` with an HTTP client for the load kit, shut down afterwards.
    static func withLoadAPI<T: Sendable>(_ api: APIClient, _ body: (HTTPAPI) async throws -> T) async throws -> T {
        let http = HTTPAPI(base: try target(api).server, token: api.ministryToken)
        do {
            let result = try await body(http)
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    /// An open-loop fanout of 60 messages at 60 a second. The message count ends the run; the time is only a bound,
    /// generous for a loaded CI machine.
    static func sixtyMessages(target: Target, setup: LoadSetup, api: HTTPAPI) -> FanoutScenario {
        var scenario = FanoutScenario(target: target, setup: setup)
        scenario.api = api
        scenario.rate = 60
        scenario.seconds = 30
        scenario.messages = 60
        scenario.drain = 10
        return scenario
    }

    @Test func connectHoldsEveryConnectionFromSeveralSourceAddresses() async throws {
        try await withTestServer(configure: { $0.sendRate = 0 }) { api in
            try await Self.withLoadAPI(api) { http in
                let setup = try await SetupBuilder(api: http, shape: .classChats(2, members: 10)).build()
                #expect(setup.people.count == 20)
                let report = try await ConnectScenario(target: try Self.target(api, sources: 3), people: setup.people, hold: 0.5).run()
                #expect(report.passed, "\(report.table)")
                #expect(report.counters.opened == 20)
                #expect(report.counters.open == 20)
            }
        }
    }

    @Test func fanoutOpenLoopDeliversEveryMessageToEveryMemberInOrder() async throws {
        try await withTestServer(configure: { $0.sendRate = 0 }) { api in
            try await Self.withLoadAPI(api) { http in
                let setup = try await SetupBuilder(api: http, shape: .classChats(3, members: 5)).build()
                let report = try await Self.sixtyMessages(target: try Self.target(api), setup: setup, api: http).run()
                #expect(report.passed, "\(report.table)")
                #expect(report.counters.sent == 60)
                #expect(report.counters.acked == 60)
                // Every message reaches all five members of its chat, its sender included.
                #expect(report.counters.delivered == 60 * 5)
                #expect(report.latencies["send→last recipient"]?.count == 60)
            }
        }
    }

    @Test func fanoutClosedLoopKeepsAWindowOutstanding() async throws {
        try await withTestServer(configure: { $0.sendRate = 0 }) { api in
            try await Self.withLoadAPI(api) { http in
                let setup = try await SetupBuilder(api: http, shape: .classChats(4, members: 2)).build()
                var scenario = FanoutScenario(target: try Self.target(api), setup: setup)
                scenario.api = http
                scenario.window = 4
                // The message count ends the run; the time is only a bound, generous for a loaded CI machine.
                scenario.seconds = 30
                scenario.messages = 80
                scenario.drain = 10
                let report = try await scenario.run()
                #expect(report.passed, "\(report.table)")
                #expect(report.counters.acked == report.counters.sent)
                #expect(report.counters.acked >= 80)
                #expect(report.counters.delivered == report.counters.acked * 2)
            }
        }
    }

    @Test func schooldayReconnectsAndCatchesUpWithoutAGapOrADuplicate() async throws {
        try await withTestServer(configure: { $0.sendRate = 0 }) { api in
            try await Self.withLoadAPI(api) { http in
                let shape = SchoolShape(schools: 1, classesPerSchool: 2, studentsPerClass: 4, teachersPerClass: 1, guardiansPerStudent: 1.5)
                let setup = try await SetupBuilder(api: http, shape: shape).build()
                #expect(setup.people.count == shape.people)
                var scenario = SchooldayScenario(target: try Self.target(api), setup: setup)
                scenario.api = http
                scenario.schedule = SendSchedule(rate: 20, lessonSeconds: 0.5, breakSeconds: 0.5, breakFactor: 3)
                scenario.reconnectsPerSecond = 6
                scenario.away = 0.1...0.4
                scenario.seconds = 3
                scenario.messages = 200
                scenario.drain = 15
                let report = try await scenario.run()
                #expect(report.passed, "\(report.table)")
                #expect(report.counters.acked > 0)
                #expect(report.counters.reconnects > 0)
                #expect(report.counters.syncs > 0)
            }
        }
    }
}
