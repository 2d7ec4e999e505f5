import Foundation

/// A file as messages carry it (`msg` frames, history, `sync`): what a client needs to show it and fetch it, never
/// its bytes.
public struct AttachedFile: Sendable, Equatable, Codable {
    public let id: Int64
    public let name: String
    public let size: Int64
    public let type: FileType
    public let width: Int?
    public let height: Int?
    /// Whether `GET /v1/files/{id}/preview` has a preview.
    public let preview: Bool

    public init(id: Int64, name: String, size: Int64, type: FileType, width: Int?, height: Int?, preview: Bool) {
        self.id = id
        self.name = name
        self.size = size
        self.type = type
        self.width = width
        self.height = height
        self.preview = preview
    }
}

/// The limits on files, each an option of `serve` (README).
public struct FileLimits: Sendable, Equatable {
    /// The largest file, in bytes (25 MiB).
    public var maximumSize: Int64 = 25 << 20
    /// Files one message may carry.
    public var filesPerMessage: Int = 10
    /// Bytes one person may upload in 24 hours (1 GiB: a teacher's week of worksheets and a few videos in a day).
    public var dailyQuota: Int64 = 1 << 30

    public init() {}

    /// A file name as stored and served: 1 to 255 characters, no path, no control characters.
    public static func validName(_ name: String) throws(ZvonokError) -> String {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 255 else { throw .invalidArgument("name must be 1 to 255 characters") }
        guard !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "/" || $0 == "\\" }) else {
            throw .invalidArgument("name must be a file name, without a path or control characters")
        }
        return try Validation.storable(trimmed, field: "name")
    }
}
