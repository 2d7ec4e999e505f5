import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The `zvonok` executable run as a separate process, for tests that kill it: started on a loopback port with the
/// given database, logging into a file of its own (printed when a test fails to start it).
final class ServerProcess: @unchecked Sendable {
    let port: Int
    private let arguments: [String]
    private let logPath: String
    /// Touched only by the test task that owns this server.
    private var process: Process?

    /// - Parameter logLevel: nil for the server's default level.
    init(databaseURL: String, port: Int, logLevel: String? = "warning", extraArguments: [String] = []) {
        self.port = port
        self.arguments = ["serve", "--database-url", databaseURL, "--port", String(port)] + (logLevel.map { ["--log-level", $0] } ?? []) + extraArguments
        self.logPath = FileManager.default.temporaryDirectory.path + "/zvonok-process-\(getpid())-\(port).log"
    }

    /// The `zvonok` executable built beside this test binary (`swift build --build-tests` builds both).
    static func executable() throws -> URL {
        let tests = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var folder = URL(fileURLWithPath: tests).deletingLastPathComponent()
        if folder.lastPathComponent == "Linux" { folder = folder.deletingLastPathComponent() }  // inside an .xctest bundle
        let candidates = [folder, folder.deletingLastPathComponent()].map { $0.appendingPathComponent("zvonok") }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw TestFailure("no zvonok executable beside the tests (looked in \(candidates.map(\.path))); run `swift build --build-tests`")
        }
        return found
    }

    /// Starts the process and waits (up to a minute) until `/health` answers 200.
    func start() async throws {
        let process = Process()
        process.executableURL = try Self.executable()
        process.arguments = arguments
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try log.seekToEnd()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        try await waitUntilHealthy()
    }

    /// Everything the process logged so far.
    var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// SIGKILL: no shutdown code runs, as in a crash or an OOM kill.
    func kill() async {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }

    /// SIGTERM, then SIGKILL if it has not ended within ten seconds.
    func stop() async {
        guard let process, process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        await kill()
    }

    private func waitUntilHealthy() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            guard process?.isRunning == true else { break }
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
