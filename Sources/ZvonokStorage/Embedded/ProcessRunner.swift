import Foundation
import Subprocess
import SystemPackage

/// Runs a short-lived helper program (initdb, pg_ctl, …) to completion, optionally as another user.
///
/// Built on swift-subprocess, which reaps children reliably when several run at once (Foundation's `Process`
/// lost termination notices here when two clusters started in parallel). Output goes to a temporary file rather
/// than a pipe: `pg_ctl start` leaves a server running that could hold a pipe open and never let it end.
struct ProcessRunner: Sendable {
    /// What a finished program printed (standard output and error together) and how it exited.
    struct Output: Sendable {
        var succeeded: Bool
        var text: String
    }

    /// Runs programs as this user (through `runuser`); `nil` runs them as the current user.
    var user: String?

    func run(_ executable: String, _ arguments: [String]) async throws -> Output {
        let command = user.map { ["/usr/sbin/runuser", "-u", $0, "--", executable] + arguments } ?? [executable] + arguments
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("zvonok-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let file = try FileDescriptor.open(FilePath(outputPath), .writeOnly, options: [.create, .truncate], permissions: .ownerReadWrite)
        let result = try await Subprocess.run(
            .path(FilePath(command[0])),
            arguments: Arguments(Array(command.dropFirst())),
            input: .none,
            output: .fileDescriptor(file, closeAfterSpawningProcess: true),
            error: .combinedWithOutput
        )
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return Output(succeeded: result.terminationStatus.isSuccess, text: text)
    }
}
