public import Foundation

/// A region's official registry of general-education organisations (issue 20), as the ministry uploads it: the
/// rating divides `schoolsShare` by its count and matches schools to it by `officialId`.
public struct OfficialRegistry: Sendable, Equatable {
    /// One organisation of the registry.
    public struct Entry: Sendable, Equatable, Codable {
        public let officialId: String
        public let name: String
        /// The municipality's name or external id, as the registry gives it; used to count a municipality's schools.
        public let municipality: String?

        public init(officialId: String, name: String, municipality: String? = nil) {
            self.officialId = officialId
            self.name = name
            self.municipality = municipality
        }

        /// `municipality` may be left out, never `null` (the API's rule for optional fields).
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            officialId = try container.decode(String.self, forKey: .officialId)
            name = try container.decode(String.self, forKey: .name)
            municipality = container.contains(.municipality) ? try container.decode(String.self, forKey: .municipality) : nil
        }
    }

    /// The most entries one upload may hold: the largest region lists a few thousand organisations.
    public static let maximumEntries = 20_000

    public let entries: [Entry]

    /// Checks every entry (`line` numbers the rows in errors: the CSV line, or the JSON array's position from 1): ids
    /// and names as for external ids and names, each `officialId` once, at least one entry.
    public init(entries: [(line: Int, entry: Entry)]) throws(ZvonokError) {
        guard !entries.isEmpty else { throw .invalidArgument("the registry lists no organisation") }
        guard entries.count <= Self.maximumEntries else { throw .invalidArgument("the registry holds more than \(Self.maximumEntries) entries") }
        var seen: Set<String> = []
        var checked: [Entry] = []
        for (line, entry) in entries {
            do throws(ZvonokError) {
                let id = try Validation.externalID(entry.officialId, field: "officialId") ?? ""
                guard seen.insert(id).inserted else { throw ZvonokError.invalidArgument("officialId \(id) is listed twice") }
                let municipality = try entry.municipality.map { name throws(ZvonokError) in try Validation.name(name, field: "municipality") }
                checked.append(Entry(officialId: id, name: try Validation.name(entry.name), municipality: municipality))
            } catch {
                throw .invalidArgument("entry \(line): \(error.message)")
            }
        }
        self.entries = checked
    }

    /// A JSON array of `{officialId, name, municipality?}`.
    public static func parse(json data: Data) throws(ZvonokError) -> OfficialRegistry {
        let entries: [Entry]
        do {
            entries = try JSONDecoder().decode([Entry].self, from: data)
        } catch {
            throw .invalidArgument("the registry is a JSON array of {officialId, name, municipality?}")
        }
        return try OfficialRegistry(entries: entries.enumerated().map { ($0.offset + 1, $0.element) })
    }

    /// CSV with a header row naming `officialId`, `name` and optionally `municipality` (`;` or `,`, UTF-8 with or
    /// without a BOM, RFC 4180 quotes, as the roster's CSV).
    public static func parse(csv data: Data) throws(ZvonokError) -> OfficialRegistry {
        guard var text = String(data: data, encoding: .utf8) else { throw .invalidArgument("the registry is not UTF-8 text") }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let records = CSVReader.records(in: text)
        let columns = records.first?.cells.map { Validation.trimmed($0) } ?? []
        guard let idColumn = columns.firstIndex(of: "officialId"), let nameColumn = columns.firstIndex(of: "name") else {
            throw .invalidArgument("the header row must name the officialId and name columns")
        }
        let municipalityColumn = columns.firstIndex(of: "municipality")
        let entries = records.dropFirst().filter { !$0.cells.allSatisfy { Validation.trimmed($0).isEmpty } }.map { record in
            let cell = { (index: Int?) -> String? in index.flatMap { $0 < record.cells.count ? record.cells[$0] : nil } }
            let municipality = cell(municipalityColumn).flatMap { Validation.trimmed($0).isEmpty ? nil : $0 }
            return (record.line, Entry(officialId: cell(idColumn) ?? "", name: cell(nameColumn) ?? "", municipality: municipality))
        }
        return try OfficialRegistry(entries: entries)
    }
}
