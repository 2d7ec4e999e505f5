public import NIOCore
public import NIOFileSystem
import PostgresNIO

/// Blobs in PostgreSQL (`file_chunks`, sql/012): each in chunks of `chunkSize` bytes, written in one transaction and
/// read a chunk per statement, so that memory holds one chunk per transfer. The default back end: the database every
/// node already shares, in the same backups.
public struct PostgresBlobStorage: BlobStorage {
    let database: Database
    /// 256 KiB: a 25 MiB file is 100 statements of one round trip each, and ten transfers at once hold a few MiB.
    public static let chunkSize: Int64 = 256 << 10

    public init(database: Database) {
        self.database = database
    }

    public var kind: String { "postgres" }

    public func store(_ key: BlobKey, size: Int64, from path: FilePath) async throws {
        let digest = key.buffer
        try await database.transaction { connection in
            try await FileSystem.shared.withFileHandle(forReadingAt: path) { file in
                var index = 0
                for try await chunk in file.readChunks(in: 0..<size, chunkLength: .bytes(Self.chunkSize)) {
                    try await connection.query(
                        "INSERT INTO file_chunks (sha256, n, data) VALUES (\(digest), \(index), \(chunk)) ON CONFLICT DO NOTHING",
                        logger: database.logger)
                    index += 1
                }
            }
        }
    }

    public func read(_ key: BlobKey, range: Range<Int64>, into write: (ByteBuffer) async throws -> Void) async throws {
        guard !range.isEmpty else { return }
        let first = range.lowerBound / Self.chunkSize, last = (range.upperBound - 1) / Self.chunkSize
        for index in first...last {
            let start = max(range.lowerBound, index * Self.chunkSize), end = min(range.upperBound, (index + 1) * Self.chunkSize)
            // substring counts from 1.
            let rows = try await database.query(
                """
                SELECT substring(data FROM \(start - index * Self.chunkSize + 1)::integer FOR \(end - start)::integer)
                FROM file_chunks WHERE sha256 = \(key.buffer) AND n = \(Int(index))
                """)
            var found = false
            for try await piece in rows.decode(ByteBuffer.self) {
                found = true
                try await write(piece)
            }
            guard found else { throw BlobMissing(key: key) }
        }
    }

    public func remove(_ keys: [BlobKey]) async throws {
        guard !keys.isEmpty else { return }
        try await database.query("DELETE FROM file_chunks WHERE sha256 = ANY (\(keys.map(\.buffer))::bytea[])")
    }
}

/// A blob the database lists whose bytes the back end does not hold (removed by hand, or a lost object).
public struct BlobMissing: Error, CustomStringConvertible {
    public let key: BlobKey
    public init(key: BlobKey) { self.key = key }
    public var description: String { "the bytes of blob \(key) are missing" }
}
