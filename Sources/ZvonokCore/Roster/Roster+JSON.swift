public import Foundation

extension Roster {
    /// Reads the JSON form: `{"classes": [...], "staff": [...], "students": [...], "guardians": [...]}`. Items are
    /// numbered in that order from 1, and that number is the `line` of an error. A malformed document throws; a
    /// malformed item becomes a row error.
    public static func parse(json data: Data) throws(ZvonokError) -> Roster {
        guard let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw .invalidArgument("the roster must be a JSON object with classes, staff, students and guardians")
        }
        var roster = Roster()
        var line = 0
        for (section, type) in [("classes", "class"), ("staff", "staff"), ("students", "student"), ("guardians", "guardian")] {
            guard let value = document[section] else { continue }
            guard let items = value as? [Any] else { throw .invalidArgument("\(section) must be a list") }
            for item in items {
                line += 1
                roster.add(rawRow(item, type: type, line: line))
            }
        }
        return roster
    }

    private static func rawRow(_ item: Any, type: String, line: Int) -> RawRow {
        var row = RawRow(line: line, type: type)
        guard let object = item as? [String: Any] else { return RawRow(line: line, type: "not an object") }
        for (key, value) in object {
            switch value {
            case let text as String: row.fields[key] = text
            case let number as NSNumber: row.fields[key] = number.stringValue
            case let list as [Any]: row.lists[key] = list.compactMap(listEntry)
            default: continue
            }
        }
        // The JSON form lists a teacher's classes as [{class, homeroom}]; spread it into the CSV form's two lists.
        if type == "staff", let classes = object["classes"] as? [[String: Any]] {
            row.lists["classes"] = classes.compactMap { $0["class"] as? String }
            row.lists["homeroom"] = classes.filter { ($0["homeroom"] as? Bool) == true }.compactMap { $0["class"] as? String }
        }
        return row
    }

    private static func listEntry(_ value: Any) -> String? {
        switch value {
        case let text as String: text
        case let number as NSNumber: number.stringValue
        default: nil
        }
    }
}
