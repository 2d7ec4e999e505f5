import ZvonokCore

/// The counted units of weeks that are over, kept in memory so that a trend of twelve weeks counts only the newest
/// one again. A finished week never changes (`docs/rating.md`, "Past weeks are frozen"), so nothing here goes stale
/// but names, and the trend takes names from its newest week, which it always counts afresh.
///
/// Bounded: beyond `capacity` entries the oldest stored is dropped.
public actor FrozenWeeks {
    /// One counted rating: a level, a week, and the region counted (nil for all regions).
    struct Key: Hashable {
        let level: RatingLevel
        let week: RatingWeek
        let region: String?
    }

    private var entries: [Key: [RatingUnit]] = [:]
    private var order: [Key] = []
    private let capacity: Int

    public init(capacity: Int = 512) {
        self.capacity = capacity
    }

    func units(_ key: Key) -> [RatingUnit]? { entries[key] }

    func keep(_ units: [RatingUnit], for key: Key) {
        if entries.updateValue(units, forKey: key) == nil { order.append(key) }
        if order.count > capacity { entries[order.removeFirst()] = nil }
    }
}
