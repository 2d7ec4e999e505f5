public import AsyncHTTPClient
import Crypto
public import Foundation
public import NIOCore
public import NIOFileSystem
import NIOHTTP1
public import ZvonokStorage

/// Where an S3-compatible bucket is: `--files-url s3://BUCKET?endpoint=URL&region=REGION`, with the credentials from
/// the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, and `AWS_SESSION_TOKEN` when there is one).
/// Objects are addressed by path (`ENDPOINT/BUCKET/KEY`), which every S3-compatible server takes.
public struct S3Location: Sendable, Equatable {
    public var bucket: String
    /// `https://storage.yandexcloud.net`, `http://127.0.0.1:9000`, …
    public var endpoint: URL
    public var region: String
    public var accessKey: String
    public var secretKey: String
    public var sessionToken: String?

    /// Reads a `--files-url`; throws a message for the operator when it is not one.
    public init(url: String, environment: [String: String]) throws {
        guard let components = URLComponents(string: url), components.scheme == "s3", let bucket = components.host, !bucket.isEmpty else {
            throw S3Error("--files-url must be s3://BUCKET?endpoint=URL, got \(url)")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let region = query["region"] ?? environment["AWS_REGION"] ?? "us-east-1"
        guard let endpoint = URL(string: query["endpoint"] ?? "https://s3.\(region).amazonaws.com"), endpoint.host != nil else {
            throw S3Error("the endpoint of --files-url is not a URL")
        }
        guard let accessKey = environment["AWS_ACCESS_KEY_ID"], let secretKey = environment["AWS_SECRET_ACCESS_KEY"] else {
            throw S3Error("S3 storage needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment")
        }
        self.bucket = bucket
        self.endpoint = endpoint
        self.region = region
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.sessionToken = environment["AWS_SESSION_TOKEN"]
    }
}

/// An S3 request that failed, or a setting that is wrong.
public struct S3Error: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Blobs as objects of an S3-compatible bucket, named by their SHA-256 (which is also the signed payload hash of a
/// put). Puts stream the spooled file; gets stream the asked range to the client.
public struct S3BlobStorage: BlobStorage {
    let location: S3Location
    let client: HTTPClient
    let signature: S3Signature
    /// How long one request may take; a 25 MiB put well within it.
    static let timeout = TimeAmount.seconds(120)

    public init(location: S3Location, client: HTTPClient) {
        self.location = location
        self.client = client
        self.signature = S3Signature(accessKey: location.accessKey, secretKey: location.secretKey, region: location.region)
    }

    public var kind: String { "s3" }

    /// Creates the bucket unless it exists (for a fresh deployment and the tests); outside `us-east-1` the request
    /// names its region.
    public func createBucket() async throws {
        let configuration =
            location.region == "us-east-1"
            ? ""
            : "<CreateBucketConfiguration><LocationConstraint>\(location.region)</LocationConstraint></CreateBucketConfiguration>"
        let response = try await send(
            "PUT", path: "/\(location.bucket)", payloadHash: S3Signature.hex(SHA256.hash(data: Data(configuration.utf8))),
            body: configuration.isEmpty ? nil : .bytes(ByteBuffer(string: configuration)))
        guard response.status == .ok || response.status == .conflict else { throw S3Error("creating bucket \(location.bucket): \(response.status)") }
    }

    public func store(_ key: BlobKey, size: Int64, from path: FilePath) async throws {
        try await FileSystem.shared.withFileHandle(forReadingAt: path) { file in
            let body = HTTPClientRequest.Body.stream(file.readChunks(in: 0..<size, chunkLength: .kibibytes(256)), length: .known(size))
            let response = try await send("PUT", path: objectPath(key), payloadHash: key.description, body: body)
            guard response.status == .ok else { throw S3Error("storing \(key): \(response.status)") }
        }
    }

    public func read(_ key: BlobKey, range: Range<Int64>, into write: (ByteBuffer) async throws -> Void) async throws {
        guard !range.isEmpty else { return }
        let response = try await send(
            "GET", path: objectPath(key), headers: ["range": "bytes=\(range.lowerBound)-\(range.upperBound - 1)"],
            payloadHash: S3Signature.emptyPayloadHash)
        guard response.status == .partialContent || response.status == .ok else {
            throw response.status == .notFound ? BlobMissing(key: key) : S3Error("reading \(key): \(response.status)")
        }
        for try await piece in response.body { try await write(piece) }
    }

    public func remove(_ keys: [BlobKey]) async throws {
        for key in keys {
            let response = try await send("DELETE", path: objectPath(key), payloadHash: S3Signature.emptyPayloadHash)
            guard response.status == .noContent || response.status == .ok || response.status == .notFound else {
                throw S3Error("removing \(key): \(response.status)")
            }
        }
    }

    private func objectPath(_ key: BlobKey) -> String { "/\(location.bucket)/\(key)" }

    private func send(
        _ method: String, path: String, headers extra: [String: String] = [:], payloadHash: String, body: HTTPClientRequest.Body? = nil
    ) async throws -> HTTPClientResponse {
        let base =
            location.endpoint.absoluteString.hasSuffix("/") ? String(location.endpoint.absoluteString.dropLast()) : location.endpoint.absoluteString
        var request = HTTPClientRequest(url: base + path)
        request.method = HTTPMethod(rawValue: method)
        let host = location.endpoint.port.map { "\(location.endpoint.host!):\($0)" } ?? location.endpoint.host!
        var signed = extra
        if let token = location.sessionToken { signed["x-amz-security-token"] = token }
        for (name, value) in signed { request.headers.add(name: name, value: value) }
        for (name, value) in signature.headers(method: method, host: host, path: path, headers: signed, payloadHash: payloadHash, at: Date()) {
            request.headers.add(name: name, value: value)
        }
        if let body { request.body = body }
        return try await client.execute(request, timeout: Self.timeout)
    }
}
