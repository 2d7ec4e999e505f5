import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The `zvonok` executable run as a separate process, for tests that kill it: started on a loopback port with the
/// given database, logging into a file of its own (printed when a test fails to start it).
///
/// Runs on swift-subprocess, as the test cluster does: Foundation's `Process` watches its children in a way of its
/// own, and `waitUntilExit` blocks a thread of the two-thread cooperative pool.
final class ServerProcess: @unchecked Sendable {
    let port: Int
    private let arguments: [String]
    /// Variables set for the process on top of the test's own (the OIDC client secret, say).
    private let environment: [String: String]
    private let logPath: String
    /// The running process and the task that waits for it; touched only by the test task that owns this server.
    private var running: (pid: pid_t, ended: Task<Void, any Error>)?

    /// - Parameter logLevel: nil for the server's default level.
    init(databaseURL: String, port: Int, logLevel: String? = "warning", extraArguments: [String] = [], environment: [String: String] = [:]) {
        self.port = port
        self.environment = environment
        self.arguments =
            ["serve", "--database-url", databaseURL, "--port", String(port)] + (logLevel.map { ["--log-level", $0] } ?? []) + extraArguments
        self.logPath = FileManager.default.temporaryDirectory.path + "/zvonok-process-\(getpid())-\(port).log"
    }

    /// The `zvonok` executable built beside this test binary (`swift build --build-tests` builds both).
    static func executable() throws -> String {
        let tests = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var folder = URL(fileURLWithPath: tests).deletingLastPathComponent()
        if folder.lastPathComponent == "Linux" { folder = folder.deletingLastPathComponent() }  // inside an .xctest bundle
        let candidates = [folder, folder.deletingLastPathComponent()].map { $0.appendingPathComponent("zvonok").path }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestFailure("no zvonok executable beside the tests (looked in \(candidates)); run `swift build --build-tests`")
        }
        return found
    }

    /// Starts the process and waits (up to a minute) until `/health` answers 200.
    func start() async throws {
        let executable = try Self.executable()
        let log = try FileDescriptor.open(FilePath(logPath), .writeOnly, options: [.create, .append], permissions: .ownerReadWrite)
        let (pids, pid) = AsyncStream.makeStream(of: pid_t.self)
        let arguments = Arguments(self.arguments)
        let environment = Environment.inherit.updating(
            Dictionary(uniqueKeysWithValues: self.environment.map { (Environment.Key(stringLiteral: $0.key), Optional($0.value)) }))
        let ended = Task {
            defer { pid.finish() }
            _ = try await Subprocess.run(
                .path(FilePath(executable)), arguments: arguments, environment: environment, input: .none,
                output: .fileDescriptor(log, closeAfterSpawningProcess: true), error: .combinedWithOutput
            ) { execution in
                pid.yield(execution.processIdentifier.value)
            }
        }
        var started = pids.makeAsyncIterator()
        guard let processID = await started.next() else {
            _ = await ended.result
            throw TestFailure("zvonok did not start: \(log)")
        }
        running = (processID, ended)
        try await waitUntilHealthy()
    }

    /// SIGKILL: no shutdown code runs, as in a crash or an OOM kill. Returns once the process is gone.
    func kill() async {
        guard let running else { return }
        Glibc.kill(running.pid, SIGKILL)
        _ = await running.ended.result
        self.running = nil
    }

    /// SIGTERM, then SIGKILL if it has not ended within ten seconds.
    func stop() async {
        guard let running else { return }
        Glibc.kill(running.pid, SIGTERM)
        let timer = Task {
            try await Task.sleep(for: .seconds(10))
            Glibc.kill(running.pid, SIGKILL)
        }
        _ = await running.ended.result
        timer.cancel()
        self.running = nil
    }

    /// Everything the process logged so far.
    var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    private func waitUntilHealthy() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/health"), timeout: .seconds(2)),
                response.status == .ok
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("zvonok did not become healthy on port \(port); its log:\n\(log.suffix(4_000))")
    }
}
