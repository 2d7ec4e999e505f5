public import Crypto
public import NIOCore
public import NIOFileSystem

/// The name of a blob: the SHA-256 of its bytes. Identical bytes are one blob however often they are uploaded.
public struct BlobKey: Hashable, Sendable, CustomStringConvertible {
    public let digest: [UInt8]

    public init(_ digest: SHA256.Digest) { self.digest = Array(digest) }

    /// A key read back from the database; nil unless 32 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        digest = bytes
    }

    /// The digest as PostgreSQL's `bytea` takes it (a `[UInt8]` would be bound as `char[]`).
    public var buffer: ByteBuffer { ByteBuffer(bytes: digest) }

    /// Lowercase hex: the object's name in S3 and the file's `ETag`.
    public var description: String { digest.map { String($0, radix: 16).leftPadded(to: 2) }.joined() }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// Where the bytes of files live: one small protocol with two back ends, PostgreSQL (`PostgresBlobStorage`, the
/// default: several nodes and one backup need nothing else) and S3-compatible object storage (`S3BlobStorage`, for
/// deployments that outgrow the database). Which blobs exist is kept in the database (`FileStore`) whichever holds
/// the bytes. Neither ever holds a whole file in memory.
public protocol BlobStorage: Sendable {
    /// A name for logs, `/health` and the README: `postgres` or `s3`.
    var kind: String { get }
    /// Stores the `size` bytes of the local file at `path` as `key`; storing a key again is harmless.
    func store(_ key: BlobKey, size: Int64, from path: FilePath) async throws
    /// Hands bytes `range` of the blob to `write`, in order, a piece at a time.
    func read(_ key: BlobKey, range: Range<Int64>, into write: (ByteBuffer) async throws -> Void) async throws
    /// Forgets blobs; keys that are not stored are ignored.
    func remove(_ keys: [BlobKey]) async throws
}
