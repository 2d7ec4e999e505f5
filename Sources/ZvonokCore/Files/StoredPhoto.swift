/// Reads an uploaded file's bytes at any offset (the server's spool file), so that a photo is inspected without ever
/// being held whole in memory.
public protocol ByteReader: Sendable {
    /// The file's length in bytes.
    var count: Int64 { get }
    /// The bytes in `range` (fewer only at the end of the file).
    func read(_ range: Range<Int64>) async throws -> [UInt8]
}

/// One piece of a file as it is stored: bytes of the upload copied as they are, or bytes written anew.
public enum FilePiece: Equatable, Sendable {
    case copy(Range<Int64>)
    case insert([UInt8])
}

/// A photo as Zvonok stores it: the pieces of the upload that remain once its metadata is gone, and its size as
/// displayed.
///
/// Photos taken by phones carry the place they were taken (EXIF GPS), the device, the owner's name, sometimes a
/// thumbnail of the uncropped picture: a school messenger must never hand a child's location to a whole class. EXIF,
/// XMP, IPTC and comments are dropped from JPEG, PNG and WebP without re-encoding: the pixels are copied byte for
/// byte. Only a JPEG's orientation is kept, rewritten as a minimal EXIF block of that one tag, so that portraits taken
/// with a phone stay upright.
public struct StoredPhoto: Equatable, Sendable {
    public var pieces: [FilePiece]
    /// Pixels as displayed (a JPEG's orientation applied); nil when the header does not say.
    public var width: Int?
    public var height: Int?

    /// The photo `reader` holds, of a `type` that `FileType.isStrippedPhoto`, without its metadata; throws
    /// `unsupported_media_type` when its structure is broken.
    public static func inspect(_ type: FileType, in reader: some ByteReader) async throws -> StoredPhoto {
        switch type {
        case .jpeg: try await JPEGPhoto(reader: reader).inspect()
        case .png: try await PNGPhoto(reader: reader).inspect()
        case .webp: try await WebPPhoto(reader: reader).inspect()
        default: StoredPhoto(pieces: [.copy(0..<reader.count)])
        }
    }

    /// Width and height of a GIF from its screen descriptor.
    public static func gifSize(_ head: [UInt8]) -> (width: Int, height: Int)? {
        guard head.count >= 10 else { return nil }
        return (Int(head[6]) | Int(head[7]) << 8, Int(head[8]) | Int(head[9]) << 8)
    }

    static func broken(_ type: FileType) -> ZvonokError {
        ZvonokError(.unsupportedMediaType, "the file is not a valid \(type.rawValue) image")
    }
}

extension ByteReader {
    /// Exactly `count` bytes at `offset`, or `broken` when the file ends first.
    func exactly(_ count: Int, at offset: Int64, or broken: ZvonokError) async throws -> [UInt8] {
        let bytes = try await read(offset..<offset + Int64(count))
        guard bytes.count == count else { throw broken }
        return bytes
    }
}

extension [UInt8] {
    func bigEndian(_ at: Int, _ width: Int) -> Int { self[at..<at + width].reduce(0) { $0 << 8 | Int($1) } }
    func littleEndian(_ at: Int, _ width: Int) -> Int { self[at..<at + width].reversed().reduce(0) { $0 << 8 | Int($1) } }
}

/// JPEG: segments up to the first scan; APPn blocks but JFIF (APP0), ICC profiles (APP2) and Adobe's (APP14) go, and
/// comments; the image data is copied up to its end marker, so data appended after it (phones' extra pictures, each
/// with its own EXIF) goes too.
struct JPEGPhoto<Reader: ByteReader> {
    let reader: Reader
    private var broken: ZvonokError { StoredPhoto.broken(.jpeg) }

    func inspect() async throws -> StoredPhoto {
        var kept: [FilePiece] = []
        var orientation: Int?
        var size: (width: Int, height: Int)?
        var offset: Int64 = 2
        while true {
            let head = try await reader.exactly(4, at: offset, or: broken)
            guard head[0] == 0xFF else { throw broken }
            let marker = head[1]
            if marker == 0xFF {
                offset += 1  // fill byte
                continue
            }
            if marker == 0xD9 { break }
            let length = Int64(head.bigEndian(2, 2))
            guard length >= 2 else { throw broken }
            let segment = offset..<offset + 2 + length
            if marker == 0xDA {
                kept.append(.copy(offset..<(try await endOfImage(from: offset))))
                break
            }
            switch marker {
            case 0xE1:
                // The first EXIF block is the photo's (an editor may add another after it).
                if orientation == nil { orientation = Self.orientation(try await reader.exactly(Int(length) - 2, at: offset + 4, or: broken)) }
            case 0xE2:
                let label = try await reader.read(offset + 4..<offset + 16)
                if label == Array("ICC_PROFILE\0".utf8) { kept.append(.copy(segment)) }
            case 0xE0, 0xEE:
                kept.append(.copy(segment))
            case 0xE3...0xED, 0xEF, 0xFE:
                break
            case 0xC0...0xCF where ![0xC4, 0xC8, 0xCC].contains(marker):
                let frame = try await reader.exactly(5, at: offset + 5, or: broken)
                size = (frame.bigEndian(2, 2), frame.bigEndian(0, 2))
                kept.append(.copy(segment))
            default:
                kept.append(.copy(segment))
            }
            offset = segment.upperBound
        }
        let turn = orientation ?? 1
        let rotated = (5...8).contains(turn)
        let pieces: [FilePiece] = [.copy(0..<2)] + (turn == 1 ? [] : [.insert(Self.orientationSegment(turn))]) + kept
        return StoredPhoto(pieces: pieces, width: rotated ? size?.height : size?.width, height: rotated ? size?.width : size?.height)
    }

    /// The end of the image data that starts with the scan at `offset`: just past its EOI marker (a marker byte in
    /// entropy-coded data is always escaped, so the first `FF D9` is it), or the end of the file when it has none.
    private func endOfImage(from offset: Int64) async throws -> Int64 {
        var position = offset
        var previous: UInt8 = 0
        while position < reader.count {
            let chunk = try await reader.read(position..<min(position + (1 << 20), reader.count))
            guard !chunk.isEmpty else { break }
            for (index, byte) in chunk.enumerated() {
                if previous == 0xFF, byte == 0xD9 { return position + Int64(index) + 1 }
                previous = byte
            }
            position += Int64(chunk.count)
        }
        return reader.count
    }

    /// The orientation tag (1–8) of an APP1 payload that is EXIF, or nil.
    static func orientation(_ payload: [UInt8]) -> Int? {
        guard payload.starts(with: Array("Exif\0\0".utf8)), payload.count >= 14 else { return nil }
        let tiff = Array(payload.dropFirst(6))
        let little = tiff.starts(with: Array("II".utf8))
        guard little || tiff.starts(with: Array("MM".utf8)) else { return nil }
        func number(_ at: Int, _ width: Int) -> Int? {
            guard at >= 0, at + width <= tiff.count else { return nil }
            return little ? tiff.littleEndian(at, width) : tiff.bigEndian(at, width)
        }
        guard let ifd = number(4, 4), let entries = number(ifd, 2) else { return nil }
        for entry in 0..<min(entries, 512) {
            let at = ifd + 2 + entry * 12
            guard let tag = number(at, 2) else { return nil }
            if tag == 0x0112, let value = number(at + 8, 2), (1...8).contains(value) { return value }
        }
        return nil
    }

    /// An APP1 segment holding EXIF with the orientation tag only.
    static func orientationSegment(_ orientation: Int) -> [UInt8] {
        [0xFF, 0xE1, 0x00, 0x22] + Array("Exif\0\0".utf8)
            + [0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, 0x00, 0x01]
            + [0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, UInt8(orientation), 0x00, 0x00]
            + [0x00, 0x00, 0x00, 0x00]
    }
}

/// PNG: every chunk but the textual ones (tEXt, zTXt, iTXt, where XMP lives), EXIF (eXIf) and the time (tIME), up to
/// and including IEND.
struct PNGPhoto<Reader: ByteReader> {
    let reader: Reader
    static var dropped: Set<String> { ["tEXt", "zTXt", "iTXt", "eXIf", "tIME"] }

    func inspect() async throws -> StoredPhoto {
        let broken = StoredPhoto.broken(.png)
        var pieces: [FilePiece] = [.copy(0..<8)]
        var size: (width: Int, height: Int)?
        var offset: Int64 = 8
        while true {
            let head = try await reader.exactly(8, at: offset, or: broken)
            let type = String(decoding: head[4..<8], as: UTF8.self)
            let chunk = offset..<offset + 12 + Int64(head.bigEndian(0, 4))
            guard chunk.upperBound <= reader.count else { throw broken }
            if type == "IHDR" {
                let header = try await reader.exactly(8, at: offset + 8, or: broken)
                size = (header.bigEndian(0, 4), header.bigEndian(4, 4))
            }
            if !Self.dropped.contains(type) { pieces.append(.copy(chunk)) }
            if type == "IEND" { break }
            offset = chunk.upperBound
        }
        return StoredPhoto(pieces: pieces, width: size?.width, height: size?.height)
    }
}

/// WebP: the RIFF container's chunks but EXIF and XMP, the extended header's flags for them cleared, and the RIFF
/// length written anew.
struct WebPPhoto<Reader: ByteReader> {
    let reader: Reader

    func inspect() async throws -> StoredPhoto {
        let broken = StoredPhoto.broken(.webp)
        var body: [FilePiece] = []
        var length: Int64 = 4
        var size: (width: Int, height: Int)?
        var offset: Int64 = 12
        while offset + 8 <= reader.count {
            let head = try await reader.exactly(8, at: offset, or: broken)
            let type = String(decoding: head[0..<4], as: UTF8.self)
            let payload = Int64(head.littleEndian(4, 4))
            let chunk = offset..<offset + 8 + payload + payload % 2
            guard chunk.upperBound <= reader.count else { throw broken }
            offset = chunk.upperBound
            if type == "EXIF" || type == "XMP " { continue }
            length += Int64(chunk.count)
            let first = try await reader.read(chunk.lowerBound + 8..<min(chunk.upperBound, chunk.lowerBound + 18))
            size = size ?? Self.size(of: type, first)
            if type == "VP8X", first.count == 10 {
                var header = try await reader.exactly(Int(chunk.count), at: chunk.lowerBound, or: broken)
                header[8] &= ~0x0C
                body.append(.insert(header))
            } else {
                body.append(.copy(chunk))
            }
        }
        let riff = Array("RIFF".utf8) + (0..<4).map { UInt8(truncatingIfNeeded: length >> ($0 * 8)) } + Array("WEBP".utf8)
        return StoredPhoto(pieces: [.insert(riff)] + body, width: size?.width, height: size?.height)
    }

    /// The canvas of an extended file, or the frame of a simple lossy or lossless one.
    static func size(of type: String, _ bytes: [UInt8]) -> (width: Int, height: Int)? {
        switch type {
        case "VP8X" where bytes.count >= 10: (bytes.littleEndian(4, 3) + 1, bytes.littleEndian(7, 3) + 1)
        case "VP8 " where bytes.count >= 10: (bytes.littleEndian(6, 2) & 0x3FFF, bytes.littleEndian(8, 2) & 0x3FFF)
        case "VP8L" where bytes.count >= 5 && bytes[0] == 0x2F:
            (bytes.littleEndian(1, 4) & 0x3FFF + 1, (bytes.littleEndian(1, 4) >> 14) & 0x3FFF + 1)
        default: nil
        }
    }
}
