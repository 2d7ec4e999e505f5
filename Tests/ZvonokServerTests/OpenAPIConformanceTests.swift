import Foundation
import Hummingbird
import Testing
import ZvonokServer
import ZvonokStorage

/// `docs/openapi.yaml` lists exactly the routes the server registers.
@Suite struct OpenAPIConformanceTests {
    @Test func everyRouteIsInTheSpecificationAndTheReverse() throws {
        let router = ZvonokApplication.makeRouter(
            configuration: ServerConfiguration(),
            database: Database(url: try DatabaseURL("postgres://nobody@127.0.0.1:1/none"), logger: testLogger),
            logger: testLogger
        )
        let served = Set(
            router.routes.map { route in
                let path = route.path.description.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
                return "\(route.method.rawValue) /\(path.joined(separator: "/"))"
            })
        let specified = try Self.specifiedOperations()
        #expect(served.subtracting(specified).sorted() == [], "served but not specified")
        #expect(specified.subtracting(served).sorted() == [], "specified but not served")
    }

    /// "METHOD /path" for every operation under `paths:` — read by indentation, which the file keeps regular.
    static func specifiedOperations() throws -> Set<String> {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: folder.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        var operations: Set<String> = []
        var inPaths = false
        var currentPath: String?
        let methods: Set<String> = ["get", "post", "put", "patch", "delete"]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") && !line.isEmpty { inPaths = line.hasPrefix("paths:"); continue }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   ") {
                currentPath = String(line.dropFirst(2).dropLast(line.hasSuffix(":") ? 1 : 0)).trimmingCharacters(
                    in: CharacterSet(charactersIn: "'\""))
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let path = currentPath {
                let key = line.trimmingCharacters(in: .whitespaces).dropLast()
                if methods.contains(String(key)) { operations.insert("\(key.uppercased()) \(path)") }
            }
        }
        return operations
    }
}
