import Crypto
import Foundation

/// AWS Signature Version 4 for S3 requests, composed from swift-crypto's SHA-256 and HMAC: Soto, the ecosystem's S3
/// client, is not among the packages this project may use, and the four requests Zvonok makes (create bucket, put,
/// get a range, delete) need only this signature beside AsyncHTTPClient.
struct S3Signature {
    let accessKey: String
    let secretKey: String
    let region: String

    /// The hex SHA-256 of no bytes: the payload hash of GET and DELETE.
    static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The headers to add to a request: `x-amz-date`, `x-amz-content-sha256` and `Authorization`, signing those, the
    /// host and the given headers (`range`, say; names lowercase).
    func headers(
        method: String, host: String, path: String, query: String = "", headers: [String: String] = [:], payloadHash: String, at date: Date
    )
        -> [(String, String)]
    {
        let (stamp, day) = Self.timestamps(date)
        var signed = headers.merging(["host": host, "x-amz-date": stamp, "x-amz-content-sha256": payloadHash]) { $1 }
        signed = signed.mapValues { $0.trimmingCharacters(in: .whitespaces) }
        let names = signed.keys.sorted()
        let canonical = [
            method, path, query, names.map { "\($0):\(signed[$0]!)\n" }.joined(), names.joined(separator: ";"), payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/s3/aws4_request"
        let toSign = ["AWS4-HMAC-SHA256", stamp, scope, Self.hex(SHA256.hash(data: Data(canonical.utf8)))].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(secretKey)".utf8))
        for part in [day, region, "s3", "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: key))
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(names.joined(separator: ";")), Signature=\(signature)"
        return [("x-amz-date", stamp), ("x-amz-content-sha256", payloadHash), ("authorization", authorization)]
    }

    /// `20130524T000000Z` and `20130524`.
    static func timestamps(_ date: Date) -> (stamp: String, day: String) {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let stamp = formatter.string(from: date)
        return (stamp, String(stamp.prefix(8)))
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
    }
}
