import Crypto
import NIOCore
import NIOFileSystem
import ZvonokCore
import ZvonokStorage

/// A local file being written, with the SHA-256 and length of what was written: an upload spooled to disk, a photo
/// written again without its metadata, a preview. Nothing is held in memory but the writer's buffer.
struct HashingFileWriter {
    let path: FilePath
    private var writer: BufferedWriter<WriteFileHandle>
    private var hasher = SHA256()
    private(set) var count: Int64 = 0

    init(path: FilePath, handle: WriteFileHandle) {
        self.path = path
        self.writer = handle.bufferedWriter(capacity: .kibibytes(128))
    }

    mutating func write(_ buffer: ByteBuffer) async throws {
        buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        count += try await writer.write(contentsOf: buffer)
    }

    mutating func write(_ bytes: [UInt8]) async throws {
        hasher.update(data: bytes)
        count += try await writer.write(contentsOf: bytes)
    }

    /// Flushes the buffer; returns the bytes written, named.
    mutating func finish() async throws -> SpooledFile {
        try await writer.flush()
        return SpooledFile(path: path, size: count, blob: BlobKey(hasher.finalize()))
    }

    /// Writes a new file at `path` with `body`.
    static func write(to path: FilePath, _ body: (inout HashingFileWriter) async throws -> Void) async throws -> SpooledFile {
        try await FileSystem.shared.withFileHandle(forWritingAt: path, options: .newFile(replaceExisting: true)) { handle in
            var writer = HashingFileWriter(path: path, handle: handle)
            try await body(&writer)
            return try await writer.finish()
        }
    }
}

/// A file written to the spool folder, with its length and content address.
struct SpooledFile: Sendable {
    let path: FilePath
    let size: Int64
    let blob: BlobKey

    /// A file another program wrote there, read once for its length and address.
    static func measuring(_ path: FilePath) async throws -> SpooledFile {
        try await FileSystem.shared.withFileHandle(forReadingAt: path) { handle in
            var hasher = SHA256()
            var size: Int64 = 0
            for try await chunk in handle.readChunks(chunkLength: .kibibytes(256)) {
                chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                size += Int64(chunk.readableBytes)
            }
            return SpooledFile(path: path, size: size, blob: BlobKey(hasher.finalize()))
        }
    }
}

/// A spooled file's bytes at any offset, for `StoredPhoto.inspect`.
struct SpooledFileReader: ByteReader {
    let handle: ReadFileHandle
    let count: Int64

    func read(_ range: Range<Int64>) async throws -> [UInt8] {
        let end = min(range.upperBound, count)
        guard range.lowerBound < end else { return [] }
        let buffer = try await handle.readChunk(fromAbsoluteOffset: range.lowerBound, length: .bytes(end - range.lowerBound))
        return Array(buffer: buffer)
    }

    /// Opens `file` for `body`.
    static func reading<Result>(_ file: SpooledFile, _ body: (SpooledFileReader) async throws -> Result) async throws -> Result {
        try await FileSystem.shared.withFileHandle(forReadingAt: file.path) { handle in
            try await body(SpooledFileReader(handle: handle, count: file.size))
        }
    }
}

extension StoredPhoto {
    /// Writes the photo's pieces, read from `source`, to a new file at `path`.
    func write(from source: SpooledFileReader, to path: FilePath) async throws -> SpooledFile {
        try await HashingFileWriter.write(to: path) { writer in
            for piece in pieces {
                switch piece {
                case .insert(let bytes):
                    try await writer.write(bytes)
                case .copy(let range):
                    for try await chunk in source.handle.readChunks(in: range, chunkLength: .kibibytes(256)) { try await writer.write(chunk) }
                }
            }
        }
    }
}
