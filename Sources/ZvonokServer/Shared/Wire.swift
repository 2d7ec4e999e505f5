import Foundation
import ZvonokCore

/// The encodings the HTTP API and the hub's frames share: message ids and timestamps. The API's bodies extend it
/// (`API/Responses.swift`); the hub's frames use only what is here, so neither reaches into the other's folder.
enum Wire {
    /// A message's id: its chat and seq, which name it uniquely.
    static func messageID(chat: Int64, seq: Int64) -> String {
        "\(PublicID.encode(.chat, chat)).\(seq)"
    }

    /// An RFC 3339 time from a client, with or without fractional seconds, `T` and `Z` in either case (as RFC 3339
    /// allows), a leap second read as the second before it; nil for anything else.
    static func parseTimestamp(_ text: String) -> Date? {
        var text = text.uppercased()
        // 23:59:60 (a leap second) is a valid RFC 3339 time that Foundation's parser refuses.
        if let seconds = text.range(of: #"T\d{2}:\d{2}:60"#, options: .regularExpression) {
            text.replaceSubrange(text.index(seconds.upperBound, offsetBy: -2)..<seconds.upperBound, with: "59")
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// RFC 3339 in UTC with milliseconds, as every timestamp of the API.
    static func timestamp(_ date: Date) -> String {
        timestamp(milliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// RFC 3339 in UTC with milliseconds (`2026-11-25T08:30:00.123Z`) from milliseconds since 1970. Computed
    /// directly (civil date from days, H. Hinnant's algorithm) because the hub formats two per message and
    /// Foundation's calendar-based formatter showed in its profile.
    static func timestamp(milliseconds: Int64) -> String {
        let (days, dayMilliseconds) = milliseconds.quotientAndRemainder(dividingBy: 86_400_000)
        let era = (days + 719_468) / 146_097
        let dayOfEra = days + 719_468 - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let seconds = dayMilliseconds / 1000
        return
            "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)).\(pad(dayMilliseconds % 1000, 3))Z"
    }
}
