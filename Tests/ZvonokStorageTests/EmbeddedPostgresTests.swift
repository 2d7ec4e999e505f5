import Foundation
import Logging
import Testing

@testable import ZvonokStorage

@Suite struct EmbeddedPostgresTests {
    let logger = Logger(label: "test")

    @Test func startsReusesAndStopsACluster() async throws {
        let folder = FileManager.default.temporaryDirectory.path + "/zvonok-lifecycle-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = EmbeddedPostgres.Configuration(dataDirectory: folder)
        configuration.durable = false
        let cluster = try await EmbeddedPostgres.prepare(configuration, logger: logger)
        do {
            #expect(try await cluster.start() == true)
            #expect(try await cluster.isRunning())
            #expect(FileManager.default.fileExists(atPath: folder + "/postgres/PG_VERSION"))
            // A second start finds the server running and reuses it.
            #expect(try await cluster.start() == false)
            try await cluster.stop()
            #expect(try await cluster.isRunning() == false)
            // After a stop, the next start reuses the data folder instead of creating a new cluster.
            let created = try FileManager.default.attributesOfItem(atPath: folder + "/postgres/PG_VERSION")[.modificationDate] as? Date
            #expect(try await cluster.start() == true)
            let reused = try FileManager.default.attributesOfItem(atPath: folder + "/postgres/PG_VERSION")[.modificationDate] as? Date
            #expect(created == reused)
            try await cluster.stop()
        } catch {
            try? await cluster.stop(mode: "immediate")
            throw error
        }
    }

    @Test func longDataFolderMovesTheSocketToAShortPath() async throws {
        let deep = FileManager.default.temporaryDirectory.path + "/zvonok-long-" + String(repeating: "d", count: 90)
        defer { try? FileManager.default.removeItem(atPath: deep) }
        let configuration = EmbeddedPostgres.Configuration(dataDirectory: deep)
        let cluster = try await EmbeddedPostgres.prepare(configuration, logger: logger)
        #expect(cluster.layout.clusterDirectory == deep + "/postgres")
        #expect(cluster.layout.socketDirectory.hasPrefix("/tmp/zvonok-"))
        #expect((cluster.layout.socketDirectory + "/.s.PGSQL.5432").utf8.count < 107)
        try? FileManager.default.removeItem(atPath: cluster.layout.socketDirectory)
    }

    @Test func missingBinariesNameThePackageToInstall() async throws {
        let error = await #expect(throws: EmbeddedPostgresError.self) {
            try await PostgresBinaries.locate(explicit: "/nonexistent/bin")
        }
        #expect(error?.description.contains("apt-get install postgresql") == true)
    }

    @Test func findsTheSystemBinaries() async throws {
        let binaries = try await PostgresBinaries.locate(explicit: nil)
        #expect(FileManager.default.isExecutableFile(atPath: binaries.directory + "/initdb"))
    }
}
