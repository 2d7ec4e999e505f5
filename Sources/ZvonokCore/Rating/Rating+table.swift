public import Foundation

extension Rating {
    /// The columns of the rating, in the contract's order, with each item's values as text (shares with 4
    /// decimals, the score with 2, `.` as the decimal separator). The first column is `code` for regions and `id`
    /// (`m…`, `s…`) below them; municipalities and schools also name their region, schools their municipality.
    public var table: (header: [String], rows: [[String]]) {
        var header = [level == .region ? "code" : "id", "name"]
        if level != .region { header.append("regionCode") }
        if level == .school { header.append("municipalityId") }
        header += Self.columns + Self.registryColumns
        let rows = items.map { item -> [String] in
            var row = [key(of: item.unit), item.unit.name]
            if level != .region { row.append(item.unit.regionCode) }
            if level == .school { row.append(item.unit.municipalityID.map { PublicID.encode(.municipality, $0) } ?? "") }
            let c = item.unit.counts
            row += [
                "\(c.schoolsListed)", "\(c.schoolsRegistered)", Self.text(item.schoolsShare, places: 4),
                "\(c.teachersListed)", "\(c.teachersRegistered)", Self.text(item.teachersShare, places: 4),
                "\(c.teachersActive)", Self.text(item.teachersActiveShare, places: 4),
                "\(c.teachersEngaged)", Self.text(item.teachersEngagedShare, places: 4),
                "\(c.schoolsActive)", Self.text(item.schoolsActiveShare, places: 4),
                "\(c.studentsRegistered)", "\(c.guardiansRegistered)", "\(c.messages)", "\(c.chatsActive)",
                Self.text(item.score, places: 2), "\(item.rank)",
                c.schoolsOfficial.map(String.init) ?? "", "\(c.schoolsOfficial != nil)",
                item.schoolsUsingShare.map { Self.text($0, places: 4) } ?? "",
            ]
            return row
        }
        return (header, rows)
    }

    /// The §6 columns after the unit's own.
    public static let columns = [
        "schoolsListed", "schoolsRegistered", "schoolsShare",
        "teachersListed", "teachersRegistered", "teachersShare",
        "teachersActive", "teachersActiveShare", "teachersEngaged", "teachersEngagedShare",
        "schoolsActive", "schoolsActiveShare",
        "studentsRegistered", "guardiansRegistered", "messages", "chatsActive",
        "score", "rank",
    ]

    /// The columns of the official registry (issue 20), after the §6 ones: the registry's count of the unit's schools
    /// (empty without a registry), whether `schoolsShare` divides by it, and `schoolsUsingShare` (empty without one).
    public static let registryColumns = ["schoolsOfficial", "denominatorOfficial", "schoolsUsingShare"]

    /// The unit's key as the API shows it: a region's code, or `m…`/`s…`.
    public func key(of unit: RatingUnit) -> String {
        switch level {
        case .region: unit.key
        case .municipality: PublicID.encode(.municipality, Int64(unit.key) ?? 0)
        case .school: PublicID.encode(.school, Int64(unit.key) ?? 0)
        }
    }

    /// A non-negative decimal with exactly `places` decimals and `.` as separator, whatever the locale.
    static func text(_ value: Decimal, places: Int) -> String {
        let scaled = NSDecimalNumber(decimal: rounded(value, places: places) * pow(10, places)).int64Value
        let unit = Int64(pow(10, Double(places)))
        let fraction = String(scaled % unit)
        return "\(scaled / unit).\(String(repeating: "0", count: places - fraction.count))\(fraction)"
    }

    /// RFC 4180 CSV: UTF-8 with a byte order mark (so that spreadsheet programs read Cyrillic right), a header
    /// row, `,` between fields, CRLF after each row. Safe in every locale: a field holding `,`, `;` (the separator
    /// of Russian-locale spreadsheets), a quote or a line break is quoted, its quotes doubled; and any field starting
    /// with `=`, `+`, `-`, `@`, a tab or CR is prefixed with `'`, so that a spreadsheet shows it rather than running
    /// it as a formula. The numbers of the rating never start with one of those, so they stay numbers.
    public var csv: Data {
        let (header, rows) = table
        var text = "\u{FEFF}"
        for row in [header] + rows {
            text += row.map(Self.csvField).joined(separator: ",")
            text += "\r\n"
        }
        return Data(text.utf8)
    }

    static func csvField(_ field: String) -> String {
        var value = field
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { value = "'" + value }
        guard value.unicodeScalars.contains(where: { ",;\"\r\n".unicodeScalars.contains($0) }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
