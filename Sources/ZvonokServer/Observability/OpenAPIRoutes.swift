import Foundation
import Hummingbird
import NIOCore

/// `GET /openapi.yaml`: the HTTP contract, `docs/openapi.yaml`, read once at start-up.
struct OpenAPIRoutes {
    /// `ZVONOK_OPENAPI` if set, else the file in this source checkout, else `docs/openapi.yaml` from the working folder.
    static func specificationPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let configured = environment["ZVONOK_OPENAPI"] { return configured }
        let checkout = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/openapi.yaml").path
        return FileManager.default.fileExists(atPath: checkout) ? checkout : "docs/openapi.yaml"
    }

    func register(on router: Router<ZvonokRequestContext>) {
        let specification = FileManager.default.contents(atPath: Self.specificationPath())
        router.get("/openapi.yaml") { _, _ -> Response in
            guard let specification else { throw HTTPError(.notFound, message: "this build has no docs/openapi.yaml") }
            return Response(
                status: .ok,
                headers: [.contentType: "application/yaml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: specification))
            )
        }
    }
}
