import Foundation
import Hummingbird
import NIOCore

/// The browser client: `GET /` (chats), `GET /rating` (the ministry's rating page), `GET /admin` (the admin console),
/// `GET /sw.js` (the service worker that shows Web Push notifications; at the root, so that its scope is the whole
/// client) and `GET /assets/{name}` (their scripts and styles). The files are the module's `Public` resources, read once at start-up; there is no build step.
struct WebClientRoutes {
    /// A file ready to send.
    struct Asset: Sendable {
        let contentType: String
        let body: ByteBuffer
    }

    let pages: [String: Asset]
    let assets: [String: Asset]

    init(folder: URL? = Bundle.module.url(forResource: "Public", withExtension: nil)) {
        pages = Self.load(folder, files: ["index.html", "rating.html", "admin.html", "sw.js"])
        let assetFolder = folder?.appendingPathComponent("assets")
        let names = assetFolder.flatMap { try? FileManager.default.contentsOfDirectory(atPath: $0.path) } ?? []
        assets = Self.load(assetFolder, files: names)
    }

    func register(on router: Router<ZvonokRequestContext>) {
        router.get("/") { _, _ in try page("index.html") }
        router.get("/rating") { _, _ in try page("rating.html") }
        router.get("/admin") { _, _ in try page("admin.html") }
        router.get("/sw.js") { _, _ in
            guard let worker = pages["sw.js"] else { throw HTTPError(.notFound, message: "this build has no web client") }
            return Self.response(worker)
        }
        router.get("/assets/:name") { _, context in
            guard let asset = assets[context.parameters.get("name") ?? ""] else { throw HTTPError(.notFound, message: "no such file") }
            return Self.response(asset)
        }
    }

    private func page(_ name: String) throws -> Response {
        guard let asset = pages[name] else { throw HTTPError(.notFound, message: "this build has no web client") }
        var response = Self.response(asset)
        // Scripts and styles come from this server only; the pages open no frames and are framed by no one. Files of
        // messages are fetched with the token and shown from blob: URLs.
        response.headers[.contentSecurityPolicy] =
            "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; media-src blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        return response
    }

    private static func response(_ asset: Asset) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: asset.contentType, .cacheControl: "no-cache", .xContentTypeOptions: "nosniff"],
            body: .init(byteBuffer: asset.body)
        )
    }

    private static func load(_ folder: URL?, files: [String]) -> [String: Asset] {
        guard let folder else { return [:] }
        var loaded: [String: Asset] = [:]
        for name in files {
            let path = folder.appendingPathComponent(name).path
            guard let type = contentType(of: name), let data = FileManager.default.contents(atPath: path) else { continue }
            loaded[name] = Asset(contentType: type, body: ByteBuffer(bytes: data))
        }
        return loaded
    }

    static func contentType(of name: String) -> String? {
        switch URL(fileURLWithPath: name).pathExtension {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        default: nil
        }
    }
}
