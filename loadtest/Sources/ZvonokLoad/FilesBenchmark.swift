import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ZvonokLoadKit

/// `zvonok-load files`: upload and download throughput of large files, and the server's memory while several large
/// uploads run at once (issue 17). Fan-out of messages with files is `fanout --files`.
struct FilesBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files",
        abstract: "Time uploads and downloads of large files, and watch the server's memory during concurrent uploads.",
        discussion: "Start the server with a --daily-upload-mib large enough for the run (sizes × repeats × 2 + concurrent uploads)."
    )

    @OptionGroup var server: ServerOptions

    @Option(help: "MiB per file.")
    var sizeMib: Int = 25

    @Option(help: "Timed uploads and downloads, each.")
    var repeats: Int = 5

    @Option(help: "Uploads run at once for the memory figure.")
    var concurrent: Int = 10

    @Option(help: "The server's process id: its resident memory is sampled during the concurrent uploads.")
    var serverPid: Int32?

    func run() async throws {
        try await server.withAPI(measure)
    }

    private func measure(_ api: HTTPAPI) async throws {
        let (chat, token) = try await makeClassChat(api)
        let size = sizeMib << 20
        var uploads: [Double] = [], ids: [String] = []
        for _ in 0..<repeats {
            let body = Self.file(size: size)
            let start = ContinuousClock.now
            let answer = try await api.upload(body, name: "lesson.mp4", to: chat, token: token)
            uploads.append(Self.mibPerSecond(size, since: start))
            ids.append(answer["id"] as? String ?? "")
        }
        print(String(format: "upload of %d MiB:   best %.1f MiB/s, median %.1f MiB/s", sizeMib, uploads.max() ?? 0, Self.median(uploads)))
        var downloads: [Double] = []
        for id in ids {
            let start = ContinuousClock.now
            let received = try await download(api, id: id, token: token)
            guard received == size else { throw HTTPAPI.Failure(description: "downloaded \(received) of \(size) bytes") }
            downloads.append(Self.mibPerSecond(size, since: start))
        }
        print(String(format: "download of %d MiB: best %.1f MiB/s, median %.1f MiB/s", sizeMib, downloads.max() ?? 0, Self.median(downloads)))
        try await concurrentUploads(api, chat: chat, token: token, size: size)
    }

    /// `concurrent` uploads at once; the server's resident memory is sampled every 10 ms.
    private func concurrentUploads(_ api: HTTPAPI, chat: String, token: String, size: Int) async throws {
        let meter = serverPid.map(ProcessMeter.init)
        let before = meter?.residentBytes() ?? 0
        let bodies = (0..<concurrent).map { _ in Self.file(size: size) }
        let start = ContinuousClock.now
        let peak = try await withThrowingTaskGroup(of: Int.self) { group in
            for body in bodies {
                group.addTask {
                    _ = try await api.upload(body, name: "video.mp4", to: chat, token: token); return 0
                }
            }
            let sampler = Task {
                var peak = before
                while !Task.isCancelled {
                    peak = max(peak, meter?.residentBytes() ?? 0)
                    try? await Task.sleep(for: .milliseconds(10))
                }
                return peak
            }
            try await group.waitForAll()
            sampler.cancel()
            return await sampler.value
        }
        let seconds = (ContinuousClock.now - start).milliseconds / 1000
        print(
            String(
                format: "%d uploads of %d MiB at once: %.1f s (%.1f MiB/s together)", concurrent, sizeMib, seconds,
                Double(concurrent * sizeMib) / seconds))
        if meter != nil {
            print(
                String(
                    format: "server memory: %.1f MiB before, peak %.1f MiB, growth %.1f MiB", Self.mib(before), Self.mib(peak),
                    Self.mib(peak - before)))
        }
    }

    /// Bytes of one download, read as they come.
    private func download(_ api: HTTPAPI, id: String, token: String) async throws -> Int {
        var request = HTTPClientRequest(url: api.base + "/v1/files/\(id)")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response = try await api.client.execute(request, timeout: .seconds(120))
        guard response.status == .ok else { throw HTTPAPI.Failure(description: "GET /v1/files/\(id): \(response.status)") }
        var received = 0
        for try await part in response.body { received += part.readableBytes }
        return received
    }

    /// A class with its homeroom teacher; returns the class chat and the teacher's token.
    private func makeClassChat(_ api: HTTPAPI) async throws -> (chat: String, token: String) {
        let (municipality, admin) = try await api.makeRegionAndMunicipality()
        let school = try await api.makeSchool(in: municipality, name: "Школа", admin: admin)
        let schoolClass = try await api.send(
            .POST, "/v1/schools/\(school)/classes", json: ["grade": 5, "letter": "А", "year": "2026/2027"], token: admin)
        let teacher = try await api.send(.POST, "/v1/schools/\(school)/staff", json: ["name": "Учитель", "role": "teacher"], token: admin)
        try await api.send(
            .POST, "/v1/classes/\(schoolClass["id"] as! String)/teachers", json: ["staffId": teacher["id"] as! String, "homeroom": true], token: admin
        )
        let token =
            try await api.send(.POST, "/v1/invites/\(teacher["inviteCode"] as! String)/activate", json: [String: String]())["token"] as! String
        let chats = try await api.send(.GET, "/v1/me/chats", token: token)["items"] as? [[String: Any]] ?? []
        guard let chat = chats.first(where: { $0["kind"] as? String == "class" })?["id"] as? String else {
            throw HTTPAPI.Failure(description: "the teacher has no class chat")
        }
        return (chat, token)
    }

    /// An MP4-typed file of random bytes (distinct, so that none is stored once for another).
    static func file(size: Int) -> ByteBuffer {
        var buffer = ByteBuffer(bytes: [0, 0, 0, 0x18] + Array("ftypisom".utf8) + [0, 0, 0, 0])
        var generator = SystemRandomNumberGenerator()
        while buffer.readableBytes < size { buffer.writeInteger(generator.next() as UInt64) }
        buffer.moveWriterIndex(to: size)
        return buffer
    }

    static func mibPerSecond(_ bytes: Int, since start: ContinuousClock.Instant) -> Double {
        Double(bytes) / 1_048_576 / ((ContinuousClock.now - start).milliseconds / 1000)
    }

    static func median(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.sorted()[values.count / 2] }
    static func mib(_ bytes: Int) -> Double { Double(bytes) / 1_048_576 }
}
