public import Foundation
public import Logging
public import ServiceLifecycle
public import ZvonokStorage

/// Removes what no one needs any more, every `cleanupInterval` while the server runs (issue 17): uploads that no
/// message carried within a day, files of messages deleted longer ago than the moderation window (or gone with their
/// month of history), and then the bytes of blobs no file uses. Several nodes may sweep at once: blob rows are taken
/// with `SKIP LOCKED`.
public struct FileJanitor: Service {
    let files: FileStore
    let storage: any BlobStorage
    let configuration: FileConfiguration
    let now: @Sendable () -> Date
    let logger: Logger
    /// Blobs removed per transaction.
    static let batch = 200

    /// - Parameter now: the clock (injected so that a test can jump a day).
    public init(
        database: Database, storage: any BlobStorage, configuration: FileConfiguration, now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) {
        self.files = FileStore(database: database)
        self.storage = storage
        self.configuration = configuration
        self.now = now
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: configuration.cleanupInterval)
                guard !Task.isCancelled else { return }
                do {
                    _ = try await sweep()
                } catch {
                    guard !Task.isCancelled else { return }
                    logger.warning("Could not clean up files; retrying", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// One sweep: returns the files and the blobs removed.
    public func sweep() async throws -> (files: Int, blobs: Int) {
        let now = now()
        let removedFiles = try await files.removeExpired(
            unpostedBefore: now.addingTimeInterval(-configuration.unpostedLifetime.seconds),
            deletedBefore: now.addingTimeInterval(-configuration.deletedRetention.seconds))
        var removedBlobs = 0
        while true {
            // An upload claims its blob before writing it; an hour is far longer than any upload takes.
            let removed = try await files.removeUnusedBlobs(claimedBefore: now.addingTimeInterval(-3600), limit: Self.batch, remove: storage.remove)
            removedBlobs += removed
            guard removed == Self.batch else { break }
        }
        if removedFiles + removedBlobs > 0 {
            logger.info("Cleaned up files", metadata: ["files": "\(removedFiles)", "blobs": "\(removedBlobs)"])
        }
        return (removedFiles, removedBlobs)
    }
}

extension Duration {
    /// Whole and fractional seconds, for `Date` arithmetic.
    var seconds: TimeInterval { TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18 }
}
