import Foundation
import HTTPTypes
import ZvonokCore

/// How a stored file is served (issue 17, docs/security.md): byte ranges for resumable downloads and seeking, an
/// `ETag` from its SHA-256, and headers that keep a browser from running anything it holds.
enum FileServing {
    /// The part of a file a `Range` header asks for: nil for the whole file (no header, one this server does not
    /// serve as a range — several ranges, another unit — or an `If-Range` that no longer matches); throws
    /// `range_not_satisfiable` for a range wholly past the end.
    static func range(_ header: String?, size: Int64) throws(ZvonokError) -> Range<Int64>? {
        guard let header, header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let unsatisfiable = ZvonokError(.rangeNotSatisfiable, "the range is outside the file's \(size) bytes")
        switch (Int64(parts[0]), parts[1].isEmpty ? nil : Int64(parts[1])) {
        case (nil, let suffix?) where parts[0].isEmpty:
            guard suffix > 0, size > 0 else { throw unsatisfiable }
            return max(0, size - suffix)..<size
        case (let first?, nil) where parts[1].isEmpty:
            guard first < size else { throw unsatisfiable }
            return first..<size
        case (let first?, let last?) where first <= last:
            guard first < size else { throw unsatisfiable }
            return first..<min(last + 1, size)
        default:
            return nil
        }
    }

    /// The strong validator of a blob.
    static func etag(_ blob: some CustomStringConvertible) -> String { "\"\(blob)\"" }

    /// Whether `If-None-Match` already holds this version.
    static func isFresh(_ ifNoneMatch: String?, etag: String) -> Bool {
        guard let ifNoneMatch else { return false }
        return ifNoneMatch.split(separator: ",").contains {
            $0.trimmingCharacters(in: .whitespaces) == etag || $0.trimmingCharacters(in: .whitespaces) == "*"
        }
    }

    /// Headers of every file answer: private caching, no sniffing, a sandbox that runs nothing, and RFC 6266's
    /// `Content-Disposition` (`inline` only for images and PDF).
    static func headers(name: String, type: FileType, etag: String, length: Int64) -> HTTPFields {
        var fields: HTTPFields = [
            .contentType: type.contentType,
            .contentLength: String(length),
            .acceptRanges: "bytes",
            .eTag: etag,
            .cacheControl: "private, max-age=86400",
            .xContentTypeOptions: "nosniff",
            .contentSecurityPolicy: "default-src 'none'; sandbox",
        ]
        fields[.contentDisposition] = disposition(name: name, inline: type.isInline)
        return fields
    }

    /// `inline` or `attachment`, with an ASCII `filename` for old clients and the exact UTF-8 name in `filename*`
    /// (RFC 6266, RFC 8187).
    static func disposition(name: String, inline: Bool) -> String {
        let fallback = String(
            name.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" && $0 != "%" ? Character($0) : "_" })
        let encoded = name.utf8.map { byte -> String in
            let scalar = Unicode.Scalar(byte)
            let unreserved =
                byte < 0x80 && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "!#$&+-.^_`|~".unicodeScalars.contains(scalar))
            return unreserved ? String(scalar) : String(format: "%%%02X", byte)
        }.joined()
        return "\(inline ? "inline" : "attachment"); filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }
}
