public import Foundation

extension Roster {
    /// Reads the CSV form: a header row naming the columns (`type`, `externalId`, `name`, `role`, `grade`, `letter`,
    /// `year`, `class`, `classes`, `homeroom`, `students`, optionally `email`), then one row per item. UTF-8 with or without a BOM,
    /// separated by `;` or `,` (whichever the header uses, as Excel and regional systems export), quotes as in
    /// RFC 4180, lists joined with `|`. `line` in errors is the line of the file, the header being line 1.
    public static func parse(csv data: Data) throws(ZvonokError) -> Roster {
        guard var text = String(data: data, encoding: .utf8) else { throw .invalidArgument("the roster is not UTF-8 text") }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let records = CSVReader.records(in: text)
        guard let header = records.first else { throw .invalidArgument("the roster is empty") }
        let columns = header.cells.map { Validation.trimmed($0) }
        guard columns.contains("type") else { throw .invalidArgument("the header row must name a type column") }
        var roster = Roster()
        for record in records.dropFirst() where !record.cells.allSatisfy({ Validation.trimmed($0).isEmpty }) {
            var cells: [String: String] = [:]
            for (column, cell) in zip(columns, record.cells) { cells[column] = Validation.trimmed(cell) }
            var row = RawRow(line: record.line, type: cells["type"] ?? "")
            for (column, value) in cells {
                if ["classes", "homeroom", "students"].contains(column) {
                    row.lists[column] = value.split(separator: "|").map(String.init)
                } else {
                    row.fields[column] = value
                }
            }
            roster.add(row)
        }
        return roster
    }
}

/// A small RFC 4180 reader: quoted cells may hold separators, doubled quotes and line breaks. The separator is the
/// first `;` or `,` outside quotes on the header line.
enum CSVReader {
    struct Record {
        let line: Int
        let cells: [String]
    }

    static func records(in text: String) -> [Record] {
        let separator = detectSeparator(text)
        var records: [Record] = []
        var cells: [String] = []
        var cell = ""
        var quoted = false
        var line = 1
        var recordLine = 1
        var characters = text[...]
        while let character = characters.popFirst() {
            if quoted {
                if character == "\"" {
                    if characters.first == "\"" {
                        cell.append("\"")
                        characters.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    if character == "\n" || character == "\r\n" { line += 1 }
                    cell.append(character)
                }
                continue
            }
            switch character {
            case "\"": quoted = true
            case separator:
                cells.append(cell)
                cell = ""
            case "\n", "\r\n", "\r":
                cells.append(cell)
                records.append(Record(line: recordLine, cells: cells))
                cells = []
                cell = ""
                line += 1
                recordLine = line
            default: cell.append(character)
            }
        }
        if !cell.isEmpty || !cells.isEmpty {
            cells.append(cell)
            records.append(Record(line: recordLine, cells: cells))
        }
        return records
    }

    private static func detectSeparator(_ text: String) -> Character {
        let header = text.prefix { $0 != "\n" && $0 != "\r\n" }
        let semicolons = header.filter { $0 == ";" }.count
        let commas = header.filter { $0 == "," }.count
        return semicolons > commas ? ";" : ","
    }
}
