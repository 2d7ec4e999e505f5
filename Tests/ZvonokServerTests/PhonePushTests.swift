import Crypto
import Foundation
import Hummingbird
import JWTKit
import NIOSSL
import Subprocess
import Testing
import ZvonokCore
import ZvonokStorage

@testable import ZvonokServer

/// Each phone platform's sender against a local server that checks the request as the service documents it (issue
/// 18): FCM HTTP v1 with a service account's OAuth token, APNs with an ES256 provider token, RuStore with its service
/// token, HMS with client credentials. The text never leaves in a phone payload; a token the service calls gone is
/// deleted.
@Suite struct PhonePushTests {
    @Test func everyPlatformGetsItsDocumentedRequestAndGoneTokensAreDeleted() async throws {
        let rsaPEM = try await Self.rsaKey()
        let apnsKey = P256.Signing.PrivateKey()
        // Over HTTPS, as the services are reached: APNs speaks only HTTP/2, which the client negotiates (ALPN).
        let certificate = try await SelfSignedCertificate.make()
        defer { try? FileManager.default.removeItem(at: certificate.folder) }
        let trusted = try NIOSSLCertificate.fromPEMFile(certificate.certificate.path)
        try await withTestPushService(tls: certificate) { push in
            try push.answer("/fcm-token", status: 200, json: ["access_token": "ya29.fcm", "expires_in": 3599, "token_type": "Bearer"])
            try push.answer("/hms-token", status: 200, json: ["access_token": "hms-access", "expires_in": 3600, "token_type": "Bearer"])
            try push.answer("/v1/projects/zvonok-test/messages:send", status: 200, json: ["name": "projects/zvonok-test/messages/1"])
            try push.answer("/v1/10203040/messages:send", status: 200, json: ["code": "80000000", "msg": "Success", "requestId": "1"])
            let configure: @Sendable (inout ServerConfiguration) -> Void = { configuration in
                WebPushTests.loopbackPush(&configuration)
                var fcm = PhonePushConfiguration.FCM(
                    projectID: "zvonok-test", clientEmail: "push@zvonok-test.iam.gserviceaccount.com", privateKey: rsaPEM)
                fcm.tokenURL = push.url("/fcm-token")
                fcm.baseURL = push.url("")
                var apns = PhonePushConfiguration.APNs(
                    teamID: "TEAM123456", keyID: "KEY1234567", privateKey: apnsKey.pemRepresentation, topic: "ru.zvonok.app")
                apns.baseURL = push.url("")
                var rustore = PhonePushConfiguration.RuStore(projectID: "rustore-project", serviceToken: "rustore-service-token")
                rustore.baseURL = push.url("")
                var hms = PhonePushConfiguration.HMS(appID: "10203040", clientSecret: "hms-secret")
                hms.tokenURL = push.url("/hms-token")
                hms.baseURL = push.url("")
                configuration.notifications.additionalTrustRoots = trusted
                configuration.notifications.phones = PhonePushConfiguration()
                configuration.notifications.phones.fcm = fcm
                configuration.notifications.phones.apns = apns
                configuration.notifications.phones.rustore = rustore
                configuration.notifications.phones.hms = hms
            }
            try await withTestServer(configure: configure) { api in
                let school = try await SchoolFixture.build(api)
                for (name, platform, token) in [
                    ("student1", "fcm", "fcm-token-1"), ("student2", "apns", "a1b2c3d4"), ("guardian1", "rustore", "rustore-token"),
                    ("student3", "hms", "hms-token"),
                ] {
                    let created = try expect(
                        await api.post("/v1/me/devices", token: school.token(name), ["platform": platform, "token": token]), .created)
                    #expect(created.string("id")?.first == "d")
                }
                #expect(
                    try await api.post("/v1/me/devices", token: school.token("student1"), ["platform": "blackberry", "token": "x"]).status
                        == .badRequest)
                #expect(
                    try await api.post("/v1/me/devices", token: school.token("student1"), ["platform": "fcm", "token": ""]).status == .badRequest)
                #expect(
                    try await api.post("/v1/me/devices", token: school.token("student1"), ["platform": "fcm", "token": "a b"]).status == .badRequest)

                _ = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: "Секретный текст")
                _ = try await sendToChat(api, token: school.token("teacher5"), kind: "class_parents", text: "Секретный текст")
                _ = try await sendToChat(api, token: school.token("teacher6"), kind: "class", text: "Секретный текст")

                try await Self.checkFCM(push, publicPEM: rsaPEM)
                try await Self.checkAPNs(push, key: apnsKey.publicKey)
                let rustore = try #require(try await push.requests(to: "/v1/projects/rustore-project/messages:send", count: 1).first)
                #expect(rustore.headers["authorization"] == "Bearer rustore-service-token")
                let rustoreMessage = try #require(try Self.json(rustore.body)["message"] as? [String: Any])
                #expect(rustoreMessage["token"] as? String == "rustore-token")
                #expect((rustoreMessage["notification"] as? [String: Any])?["body"] as? String == "teacher5: новое сообщение")
                try await Self.checkHMS(push)
                for request in push.received { #expect(!String(decoding: request.body, as: UTF8.self).contains("Секретный")) }

                // Each service now says the token is gone: the devices are deleted.
                try push.answer(
                    "/v1/projects/zvonok-test/messages:send", status: 404,
                    json: [
                        "error": [
                            "code": 404, "status": "NOT_FOUND",
                            "details": [["@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"]],
                        ]
                    ])
                try push.answer("/3/device/a1b2c3d4", status: 410, json: ["reason": "Unregistered", "timestamp": 1_796_400_000_000])
                try push.answer("/v1/projects/rustore-project/messages:send", status: 404, json: ["error": ["code": 404, "status": "NOT_FOUND"]])
                try push.answer("/v1/10203040/messages:send", status: 200, json: ["code": "80300007", "msg": "All the tokens are invalid"])
                _ = try await sendToChat(api, token: school.token("teacher5"), kind: "class", text: "Ещё")
                _ = try await sendToChat(api, token: school.token("teacher5"), kind: "class_parents", text: "Ещё")
                _ = try await sendToChat(api, token: school.token("teacher6"), kind: "class", text: "Ещё")
                try await waitUntil { try await WebPushTests.count("push_devices", api) == 0 }
            }
        }
    }

    private static func checkFCM(_ push: TestPushService, publicPEM: String) async throws {
        let token = try #require(try await push.requests(to: "/fcm-token", count: 1).first)
        let form = FormEncoding.decode(String(decoding: token.body, as: UTF8.self))
        #expect(form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer")
        let keys = await JWTKeyCollection().add(rsa: try Insecure.RSA.PrivateKey(pem: publicPEM).publicKey, digestAlgorithm: .sha256)
        let assertion = try await keys.verify(try #require(form["assertion"]), as: GoogleAssertion.self)
        #expect(assertion.iss == "push@zvonok-test.iam.gserviceaccount.com")
        #expect(assertion.scope == "https://www.googleapis.com/auth/firebase.messaging")
        #expect(assertion.aud == push.url("/fcm-token"))
        #expect(assertion.exp - assertion.iat == 3600)

        let send = try #require(try await push.requests(to: "/v1/projects/zvonok-test/messages:send", count: 1).first)
        #expect(send.headers["authorization"] == "Bearer ya29.fcm")
        #expect(send.headers["content-type"] == "application/json")
        let message = try #require(try json(send.body)["message"] as? [String: Any])
        #expect(message["token"] as? String == "fcm-token-1")
        #expect((message["notification"] as? [String: Any])?["body"] as? String == "teacher5: новое сообщение")
        #expect((message["data"] as? [String: String])?["count"] == "1")
        #expect((message["android"] as? [String: Any])?["priority"] as? String == "HIGH")
    }

    private static func checkAPNs(_ push: TestPushService, key: P256.Signing.PublicKey) async throws {
        let send = try #require(try await push.requests(to: "/3/device/a1b2c3d4", count: 1).first)
        #expect(send.http2, "APNs takes HTTP/2 only")
        #expect(send.headers["apns-topic"] == "ru.zvonok.app")
        #expect(send.headers["apns-push-type"] == "alert")
        #expect(send.headers["apns-priority"] == "10")
        #expect(send.headers["apns-collapse-id"]?.isEmpty == false)
        let bearer = try #require(send.headers["authorization"]?.split(separator: " "))
        #expect(bearer.first == "bearer")
        let parts = try #require(bearer.last?.split(separator: ".").map(String.init))
        let header = try json(try #require(Base64URL.decode(parts[0])))
        let claims = try json(try #require(Base64URL.decode(parts[1])))
        #expect(header["alg"] as? String == "ES256" && header["kid"] as? String == "KEY1234567")
        #expect(claims["iss"] as? String == "TEAM123456" && claims["iat"] is Int)
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: try #require(Base64URL.decode(parts[2])))
        #expect(key.isValidSignature(signature, for: Data("\(parts[0]).\(parts[1])".utf8)))
        let aps = try #require(try json(send.body)["aps"] as? [String: Any])
        #expect((aps["alert"] as? [String: Any])?["body"] as? String == "teacher5: новое сообщение")
    }

    private static func checkHMS(_ push: TestPushService) async throws {
        let token = try #require(try await push.requests(to: "/hms-token", count: 1).first)
        let form = FormEncoding.decode(String(decoding: token.body, as: UTF8.self))
        #expect(form["grant_type"] == "client_credentials" && form["client_id"] == "10203040" && form["client_secret"] == "hms-secret")
        let send = try #require(try await push.requests(to: "/v1/10203040/messages:send", count: 1).first)
        #expect(send.headers["authorization"] == "Bearer hms-access")
        let body = try json(send.body)
        #expect(body["validate_only"] as? Bool == false)
        let message = try #require(body["message"] as? [String: Any])
        #expect(message["token"] as? [String] == ["hms-token"])
        let android = try #require(message["android"] as? [String: Any])
        #expect((android["notification"] as? [String: Any])?["body"] as? String == "teacher6: новое сообщение")
        #expect(try json(Data(try #require(message["data"] as? String).utf8))["chat"] != nil)
    }

    private static func json(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// A fresh 2048-bit RSA key in PEM, as a service account's JSON holds it.
    private static func rsaKey() async throws -> String {
        let result = try await Subprocess.run(
            .name("openssl"), arguments: ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], output: .string(limit: 1 << 16),
            error: .discarded)
        return result.standardOutput
    }
}
