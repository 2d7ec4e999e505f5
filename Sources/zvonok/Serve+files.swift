import ArgumentParser
import ZvonokCore
import ZvonokServer

extension Serve {
    /// Files in chats from `--max-file-mib` … `--deleted-file-days` (or their variables) over the defaults.
    func fileConfiguration(environment: [String: String]) throws -> FileConfiguration {
        var files = FileConfiguration()
        if let mib = try count(maxFileMib, "ZVONOK_MAX_FILE_MIB", "the largest file") { files.limits.maximumSize = Int64(mib) << 20 }
        if let count = try count(filesPerMessage, "ZVONOK_FILES_PER_MESSAGE", "files per message") { files.limits.filesPerMessage = count }
        if let mib = try count(dailyUploadMib, "ZVONOK_DAILY_UPLOAD_MIB", "the daily upload quota") { files.limits.dailyQuota = Int64(mib) << 20 }
        if let hours = try count(unpostedFileHours, "ZVONOK_UNPOSTED_FILE_HOURS", "hours unposted files are kept") {
            files.unpostedLifetime = .seconds(hours * 3600)
        }
        if let days = try count(deletedFileDays, "ZVONOK_DELETED_FILE_DAYS", "days deleted messages' files are kept") {
            files.deletedRetention = .seconds(days * 24 * 3600)
        }
        files.spoolDirectory = spoolDir ?? environment["ZVONOK_SPOOL_DIR"]
        if let url = filesUrl ?? environment["ZVONOK_FILES_URL"], !url.isEmpty {
            do { files.storage = .s3(try S3Location(url: url, environment: environment)) } catch { throw ValidationError("\(error)") }
        }
        return files
    }
}
