import Crypto
public import Foundation

/// One numbered SQL file from `sql/`, such as `001_structure.sql`.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String
    /// SHA-256 of the file, hex: an applied migration whose file changed afterwards is refused.
    public let checksum: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = SHA256.hex(of: sql)
    }

    /// Reads every `NNN_name.sql` file of a folder, in version order.
    public static func load(from directory: String) throws -> [Migration] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".sql") }
        let migrations = try files.map { file in
            guard let version = Int(file.prefix(while: \.isNumber)), file.first?.isNumber == true else {
                throw MigrationError(description: "\(directory)/\(file) does not start with a version number")
            }
            let sql = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            return Migration(version: version, name: file, sql: sql)
        }.sorted { $0.version < $1.version }
        for (earlier, later) in zip(migrations, migrations.dropFirst()) where earlier.version == later.version {
            throw MigrationError(description: "\(earlier.name) and \(later.name) share version \(earlier.version)")
        }
        return migrations
    }

    /// The `sql/` folder: `ZVONOK_SQL_DIR` if set, else the one in this source checkout, else `./sql`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let configured = environment["ZVONOK_SQL_DIR"] { return configured }
        let checkout = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("sql").path
        return FileManager.default.fileExists(atPath: checkout) ? checkout : "sql"
    }
}

/// A migration that cannot be applied, worded for the operator.
public struct MigrationError: Error, CustomStringConvertible {
    public let description: String
}
