import Foundation

/// Splits a SQL file into its statements.
///
/// postgres-nio speaks only PostgreSQL's extended query protocol, which takes one statement per query, so a
/// migration file is cut at each top-level `;`. Semicolons inside quotes, quoted identifiers, dollar-quoted
/// bodies (`$$ … $$`, `$tag$ … $tag$`) and comments do not cut.
enum SQLScript {
    static func statements(in script: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var scanner = Array(script.unicodeScalars)[...]
        while let scalar = scanner.popFirst() {
            switch scalar {
            case "'", "\"":
                current.unicodeScalars.append(scalar)
                current.unicodeScalars.append(contentsOf: take(through: [scalar], from: &scanner))
            case "-" where scanner.first == "-":
                _ = take(through: ["\n"], from: &scanner)
                current.append("\n")
            case "/" where scanner.first == "*":
                scanner.removeFirst()
                _ = take(through: ["*", "/"], from: &scanner)
                current.append(" ")
            case "$":
                if let tag = dollarTag(after: &scanner) {
                    current.unicodeScalars.append(contentsOf: tag)
                    current.unicodeScalars.append(contentsOf: take(through: tag, from: &scanner))
                } else {
                    current.unicodeScalars.append(scalar)
                }
            case ";":
                append(&current, to: &statements)
            default:
                current.unicodeScalars.append(scalar)
            }
        }
        append(&current, to: &statements)
        return statements
    }

    private static func append(_ statement: inout String, to statements: inout [String]) {
        let trimmed = statement.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trimmed.isEmpty { statements.append(trimmed) }
        statement = ""
    }

    /// Consumes up to and including the first occurrence of `end`, returning what was consumed.
    private static func take(through end: [Unicode.Scalar], from scanner: inout ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        var taken: [Unicode.Scalar] = []
        while let scalar = scanner.popFirst() {
            taken.append(scalar)
            if taken.count >= end.count, Array(taken.suffix(end.count)) == end { break }
        }
        return taken
    }

    /// After a `$`, reads the rest of a dollar-quote opener (`$` or `tag$`) and returns the whole tag, or nil
    /// (leaving the scanner untouched) when the `$` is a positional parameter or part of an identifier.
    private static func dollarTag(after scanner: inout ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar]? {
        var tag: [Unicode.Scalar] = ["$"]
        var lookahead = scanner
        while let scalar = lookahead.popFirst() {
            tag.append(scalar)
            if scalar == "$" {
                scanner = lookahead
                return tag
            }
            guard scalar.properties.isAlphabetic || scalar == "_" || (tag.count > 2 && ("0"..."9").contains(scalar)) else { return nil }
        }
        return nil
    }
}
