import Testing

@testable import ZvonokCore

/// Photos lose their metadata, not their pixels (issue 17): the pieces kept are checked on hand-built files.
@Suite struct StoredPhotoTests {
    /// The bytes of a file in memory.
    struct Bytes: ByteReader {
        let bytes: [UInt8]
        var count: Int64 { Int64(bytes.count) }
        func read(_ range: Range<Int64>) async throws -> [UInt8] {
            Array(bytes[Int(min(range.lowerBound, count))..<Int(min(range.upperBound, count))])
        }
    }

    static func assemble(_ pieces: [FilePiece], from bytes: [UInt8]) -> [UInt8] {
        pieces.flatMap { piece -> [UInt8] in
            switch piece {
            case .copy(let range): Array(bytes[Int(range.lowerBound)..<Int(range.upperBound)])
            case .insert(let inserted): inserted
            }
        }
    }

    static func segment(_ marker: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [0xFF, marker, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF)] + payload
    }

    /// EXIF, little-endian, with the orientation and a GPS position written as text the test can look for.
    static func exif(orientation: UInt8) -> [UInt8] {
        let secret = Array("GPS 55.7558N 37.6173E".utf8)
        var tiff: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x02, 0x00]
        tiff += [0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, orientation, 0x00, 0x00, 0x00]
        tiff += [0x0E, 0x01, 0x02, 0x00, UInt8(secret.count), 0x00, 0x00, 0x00, 0x26, 0x00, 0x00, 0x00]
        tiff += [0x00, 0x00, 0x00, 0x00] + secret
        return Array("Exif\0\0".utf8) + tiff
    }

    static func jpeg(orientation: UInt8) -> [UInt8] {
        [0xFF, 0xD8] + segment(0xE0, Array("JFIF\0".utf8) + [1, 1, 0, 0, 1, 0, 1, 0, 0])
            + segment(0xE1, exif(orientation: orientation))
            + segment(0xE1, Array("http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>exif:GPSLatitude</x:xmpmeta>".utf8))
            + segment(0xE2, Array("ICC_PROFILE\0".utf8) + [1, 1, 9, 9])
            + segment(0xED, Array("Photoshop 3.0\0IPTC city".utf8))
            + segment(0xFE, Array("taken at school".utf8))
            + segment(0xDB, Array(repeating: 1, count: 65))
            + segment(0xC0, [8, 0, 48, 0, 64, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1])
            + segment(0xDA, [3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3F, 0])
            + [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56] + [0xFF, 0xD9]
            + [0xFF, 0xD8] + segment(0xE1, exif(orientation: 1)) + [0xFF, 0xD9]  // a second picture appended by the phone
    }

    @Test func aJPEGKeepsItsPixelsAndOrientationAndLosesEverythingElse() async throws {
        let original = Self.jpeg(orientation: 6)
        let photo = try await StoredPhoto.inspect(.jpeg, in: Bytes(bytes: original))
        let stored = Self.assemble(photo.pieces, from: original)
        let text = String(decoding: stored, as: UTF8.self)
        for leak in ["GPS", "xmpmeta", "IPTC", "taken at school"] { #expect(!text.contains(leak), "\(leak)") }
        #expect(text.contains("ICC_PROFILE") && text.contains("JFIF"))
        // Orientation 6 (turned a quarter): kept, so the picture is shown upright, 48 wide and 64 high.
        #expect(JPEGPhoto<Bytes>.orientation(Array(stored[6..<36])) == 6)
        #expect(photo.width == 48 && photo.height == 64)
        // The scan is copied byte for byte up to its end marker; what followed it is gone.
        let scan: [UInt8] = [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xD9]
        #expect(Array(stored.suffix(scan.count)) == scan)
        #expect(stored.starts(with: [0xFF, 0xD8, 0xFF, 0xE1]))
    }

    @Test func anUprightJPEGGetsNoEXIFAtAll() async throws {
        let original = Self.jpeg(orientation: 1)
        let stored = Self.assemble(try await StoredPhoto.inspect(.jpeg, in: Bytes(bytes: original)).pieces, from: original)
        #expect(!String(decoding: stored, as: UTF8.self).contains("Exif"))
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        [0, 0, UInt8(data.count >> 8), UInt8(data.count & 0xFF)] + Array(type.utf8) + data + [1, 2, 3, 4]
    }

    @Test func aPNGLosesItsTextEXIFAndTime() async throws {
        let original =
            [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Self.chunk("IHDR", [0, 0, 1, 0, 0, 0, 0, 200, 8, 2, 0, 0, 0])
            + Self.chunk("tEXt", Array("Comment\0GPS".utf8)) + Self.chunk("iTXt", Array("XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta/>".utf8))
            + Self.chunk("eXIf", Self.exif(orientation: 1).dropFirst(6).map { $0 }) + Self.chunk("IDAT", [9, 9, 9])
            + Self.chunk("tIME", [7, 234, 12, 4, 9, 0, 0]) + Self.chunk("zTXt", Array("a\0\0x".utf8)) + Self.chunk("IEND", []) + [0xAA]
        let photo = try await StoredPhoto.inspect(.png, in: Bytes(bytes: original))
        let stored = Self.assemble(photo.pieces, from: original)
        let text = String(decoding: stored, as: UTF8.self)
        for gone in ["tEXt", "iTXt", "eXIf", "tIME", "zTXt", "GPS", "xmpmeta"] { #expect(!text.contains(gone), "\(gone)") }
        #expect(text.contains("IHDR") && text.contains("IDAT") && text.hasSuffix("IEND\u{1}\u{2}\u{3}\u{4}"))
        #expect(photo.width == 256 && photo.height == 200)
    }

    @Test func aWebPLosesEXIFAndXMPAndItsFlagsAndLengthAreRewritten() async throws {
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            Array(type.utf8) + [UInt8(data.count), 0, 0, 0] + data + (data.count % 2 == 1 ? [0] : [])
        }
        let body =
            chunk("VP8X", [0x0C, 0, 0, 0, 99, 0, 0, 49, 0, 0]) + chunk("VP8 ", [0, 0, 0, 0x9D, 0x01, 0x2A, 100, 0, 50, 0])
            + chunk("EXIF", Self.exif(orientation: 1)) + chunk("XMP ", Array("<x:xmpmeta>GPS</x:xmpmeta>".utf8))
        let original = Array("RIFF".utf8) + [UInt8((body.count + 4) & 0xFF), UInt8((body.count + 4) >> 8), 0, 0] + Array("WEBP".utf8) + body
        let photo = try await StoredPhoto.inspect(.webp, in: Bytes(bytes: original))
        let stored = Self.assemble(photo.pieces, from: original)
        #expect(!String(decoding: stored, as: UTF8.self).contains("GPS"))
        #expect(stored.count == 12 + 18 + 18)
        #expect(Array(stored[4..<8]) == [UInt8(stored.count - 8), 0, 0, 0])
        #expect(stored[20] == 0)  // the EXIF and XMP flags
        #expect(photo.width == 100 && photo.height == 50)
    }

    @Test func aBrokenPhotoIsRefusedAsNotAnImage() async throws {
        let broken: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00]
        await #expect(throws: ZvonokError.self) { try await StoredPhoto.inspect(.jpeg, in: Bytes(bytes: broken)) }
        let truncated = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Self.chunk("IHDR", [0, 0, 1, 0]).prefix(10)
        await #expect(throws: ZvonokError.self) { try await StoredPhoto.inspect(.png, in: Bytes(bytes: Array(truncated))) }
    }
}
