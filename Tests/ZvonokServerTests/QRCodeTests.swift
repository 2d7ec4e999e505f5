import Foundation
import Hummingbird
import Testing

/// `POST /v1/qr-codes` (issue 19): the invite sheets' QR codes, drawn by libqrencode's `qrencode` program; without
/// it the answer is 503, never a 500.
@Suite struct QRCodeTests {
    static let haveQRencode = FileManager.default.isExecutableFile(atPath: "/usr/bin/qrencode")

    @Test func adminsGetOnePNGPerText() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let texts = ["http://127.0.0.1:8080/#invite=7KQ2-M9XD-4WPT-R8C1-H6VN", "второй"]
            let answer = try await api.call(.post, "/v1/qr-codes", token: school.token("schoolAdmin"), json: ["texts": texts])
            guard Self.haveQRencode else {
                #expect(answer.status == .serviceUnavailable)
                return
            }
            #expect(answer.status == .ok)
            let images = try #require(answer["images"] as? [String])
            #expect(images.count == 2)
            let prefix = "data:image/png;base64,"
            for image in images {
                #expect(image.hasPrefix(prefix))
                let png = Data(base64Encoded: String(image.dropFirst(prefix.count))) ?? Data()
                #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
            }
            #expect(images[0] != images[1])
        }
    }

    @Test func othersAndBadBodiesAreRefused() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let admin = school.token("schoolAdmin")
            try await expect(api.call(.post, "/v1/qr-codes", token: school.token("teacher5"), json: ["texts": ["x"]]), .forbidden)
            try await expect(api.call(.post, "/v1/qr-codes", token: nil, json: ["texts": ["x"]]), .unauthorized)
            let bodies: [[String: Any]] = [
                ["texts": [] as [String]], ["texts": Array(repeating: "x", count: 101)], ["texts": [String(repeating: "x", count: 513)]],
                ["texts": ["a\nb"]], ["texts": ["a\u{0}b"]], ["texts": [""]], ["text": "x"], ["texts": [1]],
            ]
            for body in bodies {
                let answer = try await expect(api.call(.post, "/v1/qr-codes", token: admin, json: body), .badRequest)
                #expect(answer.errorCode == "invalid_argument")
            }
        }
    }
}
