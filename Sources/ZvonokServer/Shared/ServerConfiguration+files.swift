public import ZvonokCore

/// Files in chats (issue 17): their limits, where their bytes live, and how long unused ones are kept.
public struct FileConfiguration: Sendable {
    public var limits = FileLimits()
    public var storage: FileStorageChoice = .postgres
    /// An upload no message carries is removed after this long (a day).
    public var unpostedLifetime: Duration = .seconds(24 * 3600)
    /// Files of a deleted message are kept this long for the moderators (30 days, as deleted texts' revisions), then removed.
    public var deletedRetention: Duration = .seconds(30 * 24 * 3600)
    /// How often the clean-up runs.
    public var cleanupInterval: Duration = .seconds(3600)
    /// Where uploads are spooled while they are checked; the system's temporary folder when nil.
    public var spoolDirectory: String?
    /// Where libvips' programs are looked for (previews, HEIC photos).
    public var vipsDirectories = ["/usr/bin", "/usr/local/bin"]

    public init() {}
}

/// The back end that holds the bytes of files.
public enum FileStorageChoice: Sendable, Equatable {
    /// In the database (the default).
    case postgres
    /// In an S3-compatible bucket.
    case s3(S3Location)
}
