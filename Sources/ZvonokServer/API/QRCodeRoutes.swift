import Foundation
import Hummingbird
import Subprocess
import SystemPackage
import ZvonokCore

/// `POST /v1/qr-codes`: QR codes as PNG data URLs for the admin console's invite sheets, drawn by libqrencode's
/// `qrencode` program (Debian's `qrencode` package) rather than an encoder of our own. The texts go to it on
/// standard input, never on a command line that other users of the machine could read.
struct QRCodeRoutes {
    /// Where `qrencode` is looked for, in order.
    var candidates = ["/usr/bin/qrencode", "/usr/local/bin/qrencode"]
    /// Codes one request may ask for (a school's sheet is drawn in a few requests).
    static let maximumTexts = 100
    /// Characters one code may hold: a sign-in link with its invite code fits many times over.
    static let maximumLength = 512

    struct Texts: Decodable { let texts: [String] }

    /// One data URL (`data:image/png;base64,…`) per text, in order.
    struct Answer: ResponseEncodable { let images: [String] }

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        router.post("v1/qr-codes", use: draw)
    }

    @Sendable func draw(_ request: Request, context: ZvonokRequestContext) async throws -> Answer {
        let caller = try context.requireIdentity()
        guard caller.role.isAdmin || caller.role == .ministry else { throw ZvonokError.forbidden("QR codes are drawn for admins' invite sheets") }
        let body = try await request.decodeBody(Texts.self, context: context)
        guard (1...Self.maximumTexts).contains(body.texts.count) else {
            throw ZvonokError.invalidArgument("texts must hold 1 to \(Self.maximumTexts) items")
        }
        guard body.texts.allSatisfy(Self.isDrawable) else {
            throw ZvonokError.invalidArgument("each text must be 1 to \(Self.maximumLength) characters with no control characters")
        }
        guard let program = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ZvonokError.unavailable("QR codes need the qrencode program (apt-get install qrencode)")
        }
        var images: [String] = []
        for text in body.texts {
            images.append("data:image/png;base64," + Data(try await Self.png(text, program: program)).base64EncodedString())
        }
        return Answer(images: images)
    }

    /// 1 to `maximumLength` code points (as JSON Schema counts them) with no control character, which could end or
    /// split what `qrencode` reads.
    static func isDrawable(_ text: String) -> Bool {
        (1...maximumLength).contains(text.unicodeScalars.count) && !text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    /// The QR code of `text` as a PNG of 8 pixels a module (about 3 cm at print resolution for a sign-in link), error
    /// correction M, a quiet zone of 2 modules. A raster image, so that a printed sheet holds it as an image.
    static func png(_ text: String, program: String) async throws -> [UInt8] {
        let result = try await Subprocess.run(
            .path(FilePath(program)), arguments: ["-t", "PNG", "-l", "M", "-m", "2", "-s", "8", "-o", "-"],
            input: .string(text), output: .bytes(limit: 1 << 20), error: .discarded)
        guard result.terminationStatus.isSuccess, result.standardOutput.starts(with: [0x89, 0x50, 0x4E, 0x47]) else {
            throw ZvonokError.unavailable("qrencode could not draw the code")
        }
        return result.standardOutput
    }
}
