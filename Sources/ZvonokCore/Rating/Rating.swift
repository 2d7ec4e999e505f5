public import Foundation

/// The level a rating ranks: regions of the country, or the municipalities or schools of one region.
public enum RatingLevel: String, Sendable, CaseIterable {
    case region
    case municipality
    case school
}

/// What the database counts for one unit in one week (contract §6); the shares, score and rank follow from these.
public struct RatingCounts: Sendable, Equatable {
    public var schoolsListed = 0
    public var schoolsRegistered = 0
    public var teachersListed = 0
    public var teachersRegistered = 0
    public var teachersActive = 0
    public var teachersEngaged = 0
    public var schoolsActive = 0
    public var studentsRegistered = 0
    public var guardiansRegistered = 0
    public var messages = 0
    public var chatsActive = 0
    /// The schools of the unit in the official registry in force at the end of the week; nil without one (issue 20).
    public var schoolsOfficial: Int?
    /// Of the schools matched to the registry by `officialId`: registered, and active, by the end of the week.
    public var schoolsOfficialRegistered = 0
    public var schoolsOfficialActive = 0

    public init() {}

    /// `schoolsShare`'s fraction: of the registry's schools when there is a registry, of the listed ones otherwise.
    var schoolsFraction: (part: Int, whole: Int) {
        schoolsOfficial.map { (schoolsOfficialRegistered, $0) } ?? (schoolsRegistered, schoolsListed)
    }
}

/// A region, municipality or school with its counts for the week.
public struct RatingUnit: Sendable, Equatable {
    /// The region's code, or the municipality's or school's id (a number; the API shows it as `m…` or `s…`).
    public let key: String
    public let name: String
    public let regionCode: String
    /// The school's municipality (school level only).
    public let municipalityID: Int64?
    public var counts: RatingCounts

    public init(key: String, name: String, regionCode: String, municipalityID: Int64? = nil, counts: RatingCounts = RatingCounts()) {
        self.key = key
        self.name = name
        self.regionCode = regionCode
        self.municipalityID = municipalityID
        self.counts = counts
    }
}

/// A unit with its shares (4 decimals), score (2 decimals) and rank.
public struct RatedUnit: Sendable, Equatable {
    public let unit: RatingUnit
    public let schoolsShare: Decimal
    public let teachersShare: Decimal
    public let teachersActiveShare: Decimal
    public let teachersEngagedShare: Decimal
    public let schoolsActiveShare: Decimal
    /// Indicator 10 of the regional passports: registry schools using the platform over the registry's count; nil
    /// without a registry.
    public let schoolsUsingShare: Decimal?
    public let score: Decimal
    /// 1 is the highest score among the units with the same parent (the country for regions, the region for
    /// municipalities and schools); equal scores are ordered by region code or id.
    public let rank: Int
}

/// The weekly rating of one level (contract §6).
public struct Rating: Sendable, Equatable {
    public let week: RatingWeek
    public let level: RatingLevel
    public let formula: RatingFormula
    /// True for the week in progress: its figures still change.
    public let partial: Bool
    /// Ordered by parent, then rank.
    public let items: [RatedUnit]

    /// Computes shares, scores and ranks; `units` must hold every unit of each parent, so that ranks are complete.
    public init(week: RatingWeek, level: RatingLevel, formula: RatingFormula, partial: Bool, units: [RatingUnit]) {
        self.week = week
        self.level = level
        self.formula = formula
        self.partial = partial
        let scored = units.map { unit -> (RatingUnit, [Decimal], Decimal) in
            let c = unit.counts
            let exact = [
                Self.fraction(c.schoolsFraction.part, c.schoolsFraction.whole),
                Self.fraction(c.teachersRegistered, c.teachersListed),
                Self.fraction(c.teachersActive, c.teachersRegistered),
                Self.fraction(c.teachersEngaged, c.teachersRegistered),
                Self.fraction(c.schoolsActive, c.schoolsListed),
            ]
            let score = formula.score(schoolsShare: exact[0], teachersShare: exact[1], teachersActiveShare: exact[2])
            return (unit, exact, Self.rounded(score, places: 2))
        }
        let ordered = scored.sorted { a, b in
            if a.0.regionParent(level) != b.0.regionParent(level) { return a.0.regionParent(level) < b.0.regionParent(level) }
            if a.2 != b.2 { return a.2 > b.2 }
            return Self.keyPrecedes(a.0.key, b.0.key)
        }
        var items: [RatedUnit] = []
        var rank = 0
        var parent: String?
        for (unit, exact, score) in ordered {
            if unit.regionParent(level) != parent {
                parent = unit.regionParent(level)
                rank = 0
            }
            rank += 1
            items.append(
                RatedUnit(
                    unit: unit,
                    schoolsShare: Self.rounded(exact[0], places: 4),
                    teachersShare: Self.rounded(exact[1], places: 4),
                    teachersActiveShare: Self.rounded(exact[2], places: 4),
                    teachersEngagedShare: Self.rounded(exact[3], places: 4),
                    schoolsActiveShare: Self.rounded(exact[4], places: 4),
                    schoolsUsingShare: unit.counts.schoolsOfficial.map {
                        Self.rounded(Self.fraction(unit.counts.schoolsOfficialActive, $0), places: 4)
                    },
                    score: score,
                    rank: rank
                )
            )
        }
        self.items = items
    }

    /// The same rating with only the units `keep` accepts; ranks stay those among all units of each parent.
    public func filtered(_ keep: (RatingUnit) -> Bool) -> Rating {
        Rating(week: week, level: level, formula: formula, partial: partial, items: items.filter { keep($0.unit) })
    }

    private init(week: RatingWeek, level: RatingLevel, formula: RatingFormula, partial: Bool, items: [RatedUnit]) {
        self.week = week
        self.level = level
        self.formula = formula
        self.partial = partial
        self.items = items
    }

    /// `part / whole`, 0 when nothing is there to share. Decimal division is exact for terminating fractions,
    /// so a share that is exactly half a unit in its last place rounds the same way every time.
    static func fraction(_ part: Int, _ whole: Int) -> Decimal {
        whole == 0 ? 0 : Decimal(part) / Decimal(whole)
    }

    /// Rounded half away from zero (all values here are non-negative).
    static func rounded(_ value: Decimal, places: Int) -> Decimal {
        var input = value
        var result = Decimal()
        NSDecimalRound(&result, &input, places, .plain)
        return result
    }

    /// Keys compare as numbers: ids so that 9 comes before 10, and two-digit region codes the same as text.
    static func keyPrecedes(_ a: String, _ b: String) -> Bool {
        if let x = Int64(a), let y = Int64(b) { return x < y }
        return a < b
    }
}

extension RatingUnit {
    /// The parent that ranks are counted within: the whole country for regions, the region otherwise.
    func regionParent(_ level: RatingLevel) -> String { level == .region ? "" : regionCode }
}

/// The score's weights, and the name of the formula the JSON carries so that a reader knows what was computed.
public struct RatingFormula: Sendable, Equatable, CustomStringConvertible {
    public static let version = "v1"
    public let schoolsWeight: Decimal
    public let teachersWeight: Decimal
    public let teachersActiveWeight: Decimal

    /// The contract's weights: 0.3, 0.3, 0.4.
    public static let contract = RatingFormula(
        uncheckedSchools: Decimal(string: "0.3")!, teachers: Decimal(string: "0.3")!, teachersActive: Decimal(string: "0.4")!)

    private init(uncheckedSchools schools: Decimal, teachers: Decimal, teachersActive: Decimal) {
        schoolsWeight = schools
        teachersWeight = teachers
        teachersActiveWeight = teachersActive
    }

    /// Weights for schoolsShare, teachersShare and teachersActiveShare: each 0–1, summing to 1 so that the score
    /// stays within 0–100.
    public init(schools: Decimal, teachers: Decimal, teachersActive: Decimal) throws(ZvonokError) {
        let weights = [schools, teachers, teachersActive]
        guard weights.allSatisfy({ $0 >= 0 && $0 <= 1 }), weights.reduce(0, +) == 1 else {
            throw .invalidArgument("rating weights must each be between 0 and 1 and add up to 1")
        }
        self.init(uncheckedSchools: schools, teachers: teachers, teachersActive: teachersActive)
    }

    /// Parses `0.3,0.3,0.4` (schools, teachers, active teachers).
    public init(parsing text: String) throws(ZvonokError) {
        let parts = text.split(separator: ",").map {
            Decimal(string: $0.trimmingCharacters(in: .whitespaces), locale: Locale(identifier: "en_US_POSIX"))
        }
        guard parts.count == 3, let schools = parts[0], let teachers = parts[1], let active = parts[2] else {
            throw .invalidArgument("rating weights are three numbers: schools,teachers,teachersActive (as 0.3,0.3,0.4)")
        }
        try self.init(schools: schools, teachers: teachers, teachersActive: active)
    }

    func score(schoolsShare: Decimal, teachersShare: Decimal, teachersActiveShare: Decimal) -> Decimal {
        100 * (schoolsWeight * schoolsShare + teachersWeight * teachersShare + teachersActiveWeight * teachersActiveShare)
    }

    /// As the JSON names it: `v1: 100 × (0.3·schoolsShare + 0.3·teachersShare + 0.4·teachersActiveShare)`.
    public var description: String {
        "\(Self.version): 100 × (\(schoolsWeight)·schoolsShare + \(teachersWeight)·teachersShare + \(teachersActiveWeight)·teachersActiveShare)"
    }
}
