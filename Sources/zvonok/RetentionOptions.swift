import ArgumentParser
import Foundation
import ZvonokServer
import ZvonokStorage

/// `zvonok serve`'s options for the school year and personal data (issue 20): how long things are kept.
struct RetentionOptions: ParsableArguments {
    @Option(help: "School years of history kept, the current one included. [env: ZVONOK_HISTORY_SCHOOL_YEARS] (default: 2)")
    var historySchoolYears: Int?

    @Option(help: "Days a deleted message's text and edit revisions stay for moderators. [env: ZVONOK_MODERATION_WINDOW_DAYS] (default: 30)")
    var moderationWindowDays: Int?

    @Option(help: "Days audit entries are kept. [env: ZVONOK_AUDIT_DAYS] (default: 1095)")
    var auditDays: Int?

    @Option(help: "Days after removal or graduation before a person's data is erased. [env: ZVONOK_ERASURE_GRACE_DAYS] (default: 30)")
    var erasureGraceDays: Int?

    @Option(help: "Days a graduated class's archived chats stay readable by their members. [env: ZVONOK_GRADUATE_ARCHIVE_DAYS] (default: 180)")
    var graduateArchiveDays: Int?

    /// Each option over its variable over the default; every value at least 1.
    func apply(to configuration: inout ServerConfiguration) throws {
        if let years = try value(historySchoolYears, "ZVONOK_HISTORY_SCHOOL_YEARS") { configuration.retention.schoolYearsOfHistory = years }
        if let days = try value(moderationWindowDays, "ZVONOK_MODERATION_WINDOW_DAYS") { configuration.retention.moderationWindow = Self.days(days) }
        if let days = try value(auditDays, "ZVONOK_AUDIT_DAYS") { configuration.retention.auditPeriod = Self.days(days) }
        if let days = try value(erasureGraceDays, "ZVONOK_ERASURE_GRACE_DAYS") { configuration.retention.erasureGrace = Self.days(days) }
        if let days = try value(graduateArchiveDays, "ZVONOK_GRADUATE_ARCHIVE_DAYS") { configuration.graduateArchiveReadable = Self.days(days) }
    }

    private func value(_ option: Int?, _ variable: String) throws -> Int? {
        guard let value = option ?? ProcessInfo.processInfo.environment[variable].flatMap(Int.init) else { return nil }
        guard value >= 1 else { throw ValidationError("\(variable) must be at least 1") }
        return value
    }

    private static func days(_ days: Int) -> Duration { .seconds(days * 86400) }
}
