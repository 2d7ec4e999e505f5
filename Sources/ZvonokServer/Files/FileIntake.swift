import Foundation
import Logging
import NIOCore
import NIOFileSystem
import ZvonokCore
import ZvonokStorage

/// What happens to an upload between its first byte and its row (issue 17): spooled to a private temporary folder,
/// its type told by its bytes (refused at the first 4 KiB when not accepted), photos written again without their
/// metadata (HEIC made into JPEG), a preview drawn, and the bytes stored once under their SHA-256 — all without
/// holding the file in memory.
struct FileIntake: Sendable {
    let files: FileStore
    let storage: any BlobStorage
    let tools: PhotoTools
    let configuration: FileConfiguration

    /// An upload as the client sent it, its size already checked against `Content-Length` and the limits.
    struct Upload {
        let chatID: Int64
        let uploaderID: Int64
        let name: String
        let declaredSize: Int64
    }

    /// Takes the body of `upload` and stores it; returns the file and its content address.
    func take(_ upload: Upload, body: some AsyncSequence<ByteBuffer, any Error>) async throws -> (AttachedFile, BlobKey) {
        let prefix = configuration.spoolDirectory.map { FilePath($0).appending("zvonok-upload-") }
        return try await FileSystem.shared.withTemporaryDirectory(prefix: prefix) { _, folder in
            let (received, type) = try await spool(upload, body: body, to: folder.appending("received"))
            let (stored, size) = try await store(received, of: type, in: folder)
            let preview = type.hasPreviewSource ? try await preview(of: stored, in: folder) : nil
            try await keep(stored)
            let file = try await files.insert(
                .init(
                    chatID: upload.chatID, uploaderID: upload.uploaderID, name: upload.name, blob: stored.blob, size: stored.size,
                    type: type == .heic ? ZvonokCore.FileType.jpeg : type, width: size?.width, height: size?.height, preview: preview))
            return (file, stored.blob)
        }
    }

    /// Writes the body to `path`, telling its type from its first bytes; refuses a type not accepted as soon as they
    /// are in, and a body longer than declared.
    private func spool(
        _ upload: Upload, body: some AsyncSequence<ByteBuffer, any Error>, to path: FilePath
    ) async throws -> (SpooledFile, ZvonokCore.FileType) {
        var head: [UInt8] = []
        var type: ZvonokCore.FileType?
        let file = try await HashingFileWriter.write(to: path) { writer in
            for try await buffer in body {
                if type == nil {
                    head += buffer.readableBytesView.prefix(ZvonokCore.FileType.sniffLength - head.count)
                    if head.count >= min(ZvonokCore.FileType.sniffLength, Int(upload.declaredSize)) { type = try Self.sniff(head, name: upload.name) }
                }
                try await writer.write(buffer)
                guard writer.count <= upload.declaredSize else { throw ZvonokError.invalidArgument("the body is longer than its Content-Length") }
            }
        }
        guard file.size == upload.declaredSize else { throw ZvonokError.invalidArgument("the body is shorter than its Content-Length") }
        return (file, try type ?? Self.sniff(head, name: upload.name))
    }

    private static func sniff(_ head: [UInt8], name: String) throws(ZvonokError) -> ZvonokCore.FileType {
        guard let type = ZvonokCore.FileType.sniff(head, name: name) else {
            throw ZvonokError(
                .unsupportedMediaType,
                "this kind of file is not accepted: photos (JPEG, PNG, WebP, GIF, HEIC), PDF, Office and OpenDocument documents, plain text, MP3, M4A, AAC and Ogg audio, MP4, MOV and WebM video are"
            )
        }
        return type
    }

    /// The file as it is stored, and a photo's size: photos without their metadata, HEIC as JPEG, the rest as sent.
    private func store(
        _ received: SpooledFile, of type: ZvonokCore.FileType, in folder: FilePath
    ) async throws -> (SpooledFile, (width: Int, height: Int)?) {
        switch type {
        case .heic:
            let jpeg = folder.appending("photo.jpg")
            guard await tools.jpeg(of: received.path, to: jpeg) else {
                throw ZvonokError(.unsupportedMediaType, "HEIC photos cannot be read here: send a JPEG")
            }
            return try await stripped(try await SpooledFile.measuring(jpeg), of: .jpeg, in: folder)
        case .jpeg, .png, .webp:
            return try await stripped(received, of: type, in: folder)
        case .gif:
            let head = try await SpooledFileReader.reading(received) { try await $0.read(0..<10) }
            return (received, StoredPhoto.gifSize(head))
        default:
            return (received, nil)
        }
    }

    private func stripped(
        _ photo: SpooledFile, of type: ZvonokCore.FileType, in folder: FilePath
    ) async throws -> (SpooledFile, (width: Int, height: Int)?) {
        let target = folder.appending("stripped")
        return try await SpooledFileReader.reading(photo) { reader in
            let inspected = try await StoredPhoto.inspect(type, in: reader)
            let stored = try await inspected.write(from: reader, to: target)
            let size = inspected.width.flatMap { width in inspected.height.map { (width, $0) } }
            return (stored, size)
        }
    }

    /// The stored preview of an image, or nil when none could be drawn.
    private func preview(of file: SpooledFile, in folder: FilePath) async throws -> BlobKey? {
        let drawn = folder.appending("preview.jpg")
        guard await tools.preview(of: file.path, to: drawn) else { return nil }
        let preview = try await SpooledFile.measuring(drawn)
        try await keep(preview)
        return preview.blob
    }

    /// Stores a blob unless identical bytes are stored already; claimed first, so that the clean-up leaves it be.
    private func keep(_ file: SpooledFile) async throws {
        guard try await !files.claimBlob(file.blob, size: file.size) else { return }
        try await storage.store(file.blob, size: file.size, from: file.path)
        try await files.markStored(file.blob)
    }
}
