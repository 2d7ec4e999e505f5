import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import Subprocess
import SystemPackage
import Testing

/// A raw answer: status, headers and bytes (for file downloads, which are not JSON).
struct FileAnswer: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let bytes: [UInt8]

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:] }
    func string(_ key: String) -> String? { json[key] as? String }
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    var sha256: String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }
}

extension APIClient {
    /// `POST /v1/chats/{chat}/files?name=` with `bytes` as the body.
    func upload(
        _ bytes: [UInt8], name: String, to chat: String, token: String, contentType: String = "application/octet-stream"
    ) async throws
        -> FileAnswer
    {
        let query = name.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(["&", "+", "="])) ?? name
        return try await raw(
            .post, "/v1/chats/\(chat)/files?name=\(query)", token: token,
            headers: [.contentType: contentType, .contentLength: String(bytes.count)], body: bytes)
    }

    /// Any request, answered as bytes.
    func raw(_ method: HTTPRequest.Method, _ path: String, token: String, headers: HTTPFields = [:], body: [UInt8]? = nil) async throws -> FileAnswer
    {
        var fields = headers
        fields[.authorization] = "Bearer \(token)"
        return try await client.execute(uri: path, method: method, headers: fields, body: body.map { ByteBuffer(bytes: $0) }) { response in
            FileAnswer(status: response.status, headers: response.headers, bytes: Array(buffer: response.body))
        }
    }
}

/// Real images drawn by libvips' `vips` (Debian's libvips-tools, which `.ci/run` installs).
enum TestImages {
    /// An image `width`×`height` in the format its extension names (`jpg`, `png`, `webp`, `heic`, `gif`).
    static func make(_ format: String, width: Int = 64, height: Int = 48) async throws -> [UInt8] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("zvonok-images-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("image.\(format)").path
        // A gradient, so that every format has something to compress.
        let result = try await Subprocess.run(
            .name("vips"), arguments: ["xyz", folder.appendingPathComponent("xyz.v").path, "\(width)", "\(height)"], output: .discarded,
            error: .string(limit: 4096))
        #expect(result.terminationStatus.isSuccess, "vips xyz: \(result.standardError)")
        let cast = try await Subprocess.run(
            .name("vips"), arguments: ["cast", folder.appendingPathComponent("xyz.v").path, path, "uchar"], output: .discarded,
            error: .string(limit: 4096))
        #expect(cast.terminationStatus.isSuccess, "vips cast: \(cast.standardError)")
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// A JPEG with EXIF after its start (orientation 6, the camera's make, and a GPS position), XMP with the position
    /// again, and a comment: what a phone's photo of a child carries.
    static func jpegWithLocation() async throws -> [UInt8] {
        let jpeg = try await make("jpg")
        let secret = Array("Moscow GPS 55.7558N".utf8)
        var tiff: [UInt8] = [0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, 0x00, 0x02]
        tiff += [0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x00]
        tiff += [0x01, 0x0F, 0x00, 0x02, 0x00, 0x00, 0x00, UInt8(secret.count), 0x00, 0x00, 0x00, 0x26]
        tiff += [0x00, 0x00, 0x00, 0x00] + secret
        func segment(_ marker: UInt8, _ payload: [UInt8]) -> [UInt8] {
            [0xFF, marker, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF)] + payload
        }
        let metadata =
            segment(0xE1, Array("Exif\0\0".utf8) + tiff)
            + segment(0xE1, Array("http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><exif:GPSLatitude>55,45.35N</exif:GPSLatitude></x:xmpmeta>".utf8))
            + segment(0xFE, Array("Moscow, school 57".utf8))
        return Array(jpeg.prefix(2)) + metadata + Array(jpeg.dropFirst(2))
    }

    /// Width and height of an image file, as libvips reads it.
    static func size(of bytes: [UInt8]) async throws -> (width: Int, height: Int) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("zvonok-size-\(UUID().uuidString)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        func field(_ name: String) async throws -> Int {
            let result = try await Subprocess.run(.name("vipsheader"), arguments: ["-f", name, path], output: .string(limit: 64), error: .discarded)
            return Int(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
        return (try await field("width"), try await field("height"))
    }
}
