import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import Subprocess
import SystemPackage
import Testing
import ZvonokCore
import ZvonokServer
import ZvonokStorage

#if canImport(Glibc)
import Glibc
#endif

/// Both back ends of file storage (issue 17) through the same life: identical bytes stored once, ranges read back,
/// and the clean-up job with an injected clock removing unsent uploads after a day and the files of deleted messages
/// after the moderation window, with their bytes.
@Suite struct FileStorageTests {
    @Test func postgresStorageKeepsAndCleansUp() async throws {
        try await withTestServer { api in try await Self.lifeOfFiles(api, configuration: FileConfiguration()) }
    }

    /// Against moto's S3 server (PyPI `moto[server]`, which `.ci/run` installs); skipped where it is missing outside CI.
    @Test(.enabled(if: MotoServer.isInstalled || ProcessInfo.processInfo.environment["CI"] != nil))
    func s3StorageKeepsAndCleansUp() async throws {
        try await MotoServer.with { endpoint in
            var settings = FileConfiguration()
            let location = try S3Location(
                url: "s3://zvonok-test?endpoint=\(endpoint)&region=ru-central1",
                environment: ["AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"])
            settings.storage = .s3(location)
            let configuration = settings
            try await S3BlobStorage(location: location, client: .shared).createBucket()
            try await withTestServer(configure: { $0.files = configuration }) { api in try await Self.lifeOfFiles(api, configuration: configuration) }
        }
    }

    /// Retention (issue 20) drops a month of history with its files; the clean-up then removes their bytes.
    @Test func filesGoWithTheHistoryTheRetentionDrops() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            let sent = try await api.upload(Array("%PDF-1.4\nold\n".utf8), name: "old.pdf", to: chat, token: school.token("teacher5"))
            let kept = try await api.upload(Array("not sent yet\n".utf8), name: "draft.txt", to: chat, token: school.token("teacher5"))
            let id = try #require(sent.string("id"))
            try await withSocket(api, token: school.token("teacher5")) { teacher, _ in
                try await teacher.send(["type": "send", "chat": chat, "cid": "old", "files": [id]])
                _ = try await teacher.next("ack")
            }
            try await withRunningDatabase(api.databaseURL) { database in
                let month = DateInterval(start: Date().addingTimeInterval(-40 * 24 * 3600), end: Date().addingTimeInterval(60))
                try await ZvonokApplication.filesOfDroppedHistory(database)(month)
                let storage = ZvonokApplication.blobStorage(FileConfiguration(), database: database)
                let janitor = FileJanitor(
                    database: database, storage: storage, configuration: FileConfiguration(), now: { Date().addingTimeInterval(2 * 3600) },
                    logger: testLogger)
                // The sent file's row went with its month and its bytes go now; the unsent upload is not history.
                #expect(try await janitor.sweep() == (0, 1))
            }
            #expect(try await api.raw(.get, "/v1/files/\(id)", token: school.token("student1")).status == .notFound)
            #expect(try await api.raw(.get, "/v1/files/\(try #require(kept.string("id")))", token: school.token("teacher5")).status == .ok)
        }
    }

    static func lifeOfFiles(_ api: APIClient, configuration: FileConfiguration) async throws {
        let school = try await SchoolFixture.build(api)
        let chat = try await WebSocketOrderTests.classChat(api, school)
        let photo = try await api.upload(try await TestImages.make("jpg"), name: "черновик.jpg", to: chat, token: school.token("student1"))
        let book = (0..<2_500_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let sent = try await api.upload(Array("%PDF-1.5\n".utf8) + book, name: "учебник.pdf", to: chat, token: school.token("teacher5"))
        let again = try await api.upload(Array("%PDF-1.5\n".utf8) + book, name: "копия.pdf", to: chat, token: school.token("student2"))
        #expect(sent.string("sha256") == again.string("sha256"))
        let deleted = try await api.upload(Array("лишнее\n".utf8), name: "лишнее.txt", to: chat, token: school.token("teacher5"))
        let ids = try [photo, sent, deleted].map { try #require($0.string("id")) }
        try await withSocket(api, token: school.token("teacher5")) { teacher, _ in
            try await teacher.send(["type": "send", "chat": chat, "cid": "book", "text": "учебник", "files": [ids[1]]])
            #expect(try await teacher.next("ack").seq == 1)
            try await teacher.send(["type": "send", "chat": chat, "cid": "oops", "files": [ids[2]]])
            #expect(try await teacher.next("ack").seq == 2)
            try await teacher.send(["type": "delete", "chat": chat, "seq": 2])
            _ = try await teacher.next("deleted")
        }
        let part = try await api.raw(.get, "/v1/files/\(ids[1])", token: school.token("student1"), headers: [.range: "bytes=1048570-1048580"])
        #expect(part.status == .partialContent && part.bytes == Array((Array("%PDF-1.5\n".utf8) + book)[1_048_570...1_048_580]))

        try await withRunningDatabase(api.databaseURL) { database in
            let storage = ZvonokApplication.blobStorage(configuration, database: database)
            func blobs() async throws -> Int64 {
                try await database.query("SELECT count(*)::bigint FROM file_blobs").collect().first?.decode(Int64.self) ?? -1
            }
            func janitor(after: TimeInterval) -> FileJanitor {
                FileJanitor(
                    database: database, storage: storage, configuration: configuration, now: { Date().addingTimeInterval(after) }, logger: testLogger)
            }
            // The photo, its preview, the book (once for two uploads), the deleted message's note.
            #expect(try await blobs() == 4)
            #expect(try await janitor(after: 0).sweep() == (0, 0))
            // A day later: the unsent photo and the unsent copy go, and the photo's bytes and preview with them.
            #expect(try await janitor(after: 25 * 3600).sweep() == (2, 2))
            let photoHex = try #require(photo.string("sha256"))
            let photoKey = try #require(BlobKey(hex: photoHex))
            await #expect(throws: BlobMissing.self) { try await storage.read(photoKey, range: 0..<10) { _ in } }
            #expect(try await api.raw(.get, "/v1/files/\(ids[0])", token: school.token("student1")).status == .notFound)
            // After the moderation window, the deleted message's file goes too; the sent book stays.
            #expect(try await janitor(after: 31 * 24 * 3600).sweep() == (1, 1))
            #expect(try await blobs() == 1)
        }
        let book2 = try await api.raw(.get, "/v1/files/\(ids[1])", token: school.token("student2"))
        #expect(book2.status == .ok && book2.bytes.count == book.count + 9)
    }
}

extension BlobKey {
    /// A key from its hex form (tests).
    init?(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) ?? hex.endIndex
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes: bytes)
    }
}

/// moto's S3-compatible server on a loopback port, for the S3 back end's tests.
enum MotoServer {
    static var isInstalled: Bool { program != nil }

    static var program: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { "\($0)/moto_server" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `body` with the server's endpoint, then stops the server.
    static func with(_ body: (String) async throws -> Void) async throws {
        let program = try #require(program, "moto_server is missing: pip install 'moto[server]'")
        let port = try freeLoopbackPort()
        let (pids, pid) = AsyncStream.makeStream(of: pid_t.self)
        let server = Task {
            defer { pid.finish() }
            _ = try await Subprocess.run(
                .path(FilePath(program)), arguments: ["-H", "127.0.0.1", "-p", String(port)], input: .none, output: .discarded, error: .discarded
            ) { execution in pid.yield(execution.processIdentifier.value) }
        }
        var iterator = pids.makeAsyncIterator()
        let processID = try #require(await iterator.next(), "moto_server did not start")
        defer { kill(processID, SIGTERM) }
        let endpoint = "http://127.0.0.1:\(port)"
        try await waitUntilListening(port: port)
        try await body(endpoint)
        kill(processID, SIGTERM)
        _ = await server.result
    }

    private static func waitUntilListening(port: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? await RawConnection.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", port: port, patience: .seconds(1)))?.received.hasPrefix(
                "HTTP/1.") == true
            {
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestFailure("moto_server did not answer on port \(port)")
    }
}
