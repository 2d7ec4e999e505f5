import Crypto
import Foundation
import Hummingbird
import ZvonokCore
import ZvonokStorage

/// Where people receive notifications (issue 18): the server's VAPID key, browsers' Web Push subscriptions and
/// phones' device tokens, each kept for the caller.
struct PushRoutes {
    let registrations: PushRegistrationStore
    let keyring: VAPIDKeyring
    let endpoints: PushEndpointPolicy

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        let v1 = router.group("v1")
        v1.get("push/vapid-key", use: vapidKey)
        v1.post("me/push-subscriptions", use: subscribe)
        v1.delete("me/push-subscriptions/:id", use: unsubscribe)
        v1.post("me/devices", use: registerDevice)
        v1.delete("me/devices/:id", use: unregisterDevice)
    }

    /// `GET /v1/push/vapid-key`: the key browsers pass as `applicationServerKey` (public; anyone may read it).
    @Sendable func vapidKey(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.VAPIDKeyBody {
        Wire.VAPIDKeyBody(key: try await keyring.signer().publicKey)
    }

    /// `POST /v1/me/push-subscriptions` `{endpoint, keys: {p256dh, auth}}` → 201 `{id}`: only endpoints on the
    /// allow-list, only keys that are a P-256 point and a 16-byte secret.
    @Sendable func subscribe(_ request: Request, context: ZvonokRequestContext) async throws -> EditedResponse<Wire.IDBody> {
        let caller = try context.requireIdentity()
        let body = try await request.decodeBody(Body.NewPushSubscription.self, context: context)
        _ = try endpoints.check(body.endpoint)
        guard let p256dh = Base64URL.decode(body.keys.p256dh), (try? P256.KeyAgreement.PublicKey(x963Representation: p256dh)) != nil else {
            throw ZvonokError.invalidArgument("keys.p256dh must be an uncompressed P-256 public key in base64url")
        }
        guard let auth = Base64URL.decode(body.keys.auth), auth.count == 16 else {
            throw ZvonokError.invalidArgument("keys.auth must be 16 bytes in base64url")
        }
        let id = try await registrations.subscribe(caller.personID, endpoint: body.endpoint, p256dh: p256dh, auth: auth)
        return EditedResponse(status: .created, response: Wire.IDBody(id: PublicID.encode(.pushSubscription, id)))
    }

    /// `DELETE /v1/me/push-subscriptions/{id}`: 204, or 404 when the caller has no such subscription.
    @Sendable func unsubscribe(_ request: Request, context: ZvonokRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.requireIdentity()
        guard try await registrations.unsubscribe(caller.personID, id: try request.id("id", .pushSubscription, context: context)) else {
            throw ZvonokError.notFound("no such subscription")
        }
        return .noContent
    }

    /// `POST /v1/me/devices` `{platform, token}` → 201 `{id}`.
    @Sendable func registerDevice(_ request: Request, context: ZvonokRequestContext) async throws -> EditedResponse<Wire.IDBody> {
        let caller = try context.requireIdentity()
        let body = try await request.decodeBody(Body.NewDevice.self, context: context)
        guard let platform = DevicePlatform(rawValue: body.platform) else {
            throw ZvonokError.invalidArgument("platform must be one of fcm, apns, rustore, hms")
        }
        guard (1...4096).contains(body.token.utf8.count), body.token.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw ZvonokError.invalidArgument("token must be 1 to 4,096 printable ASCII characters")
        }
        let id = try await registrations.register(caller.personID, platform: platform, token: body.token)
        return EditedResponse(status: .created, response: Wire.IDBody(id: PublicID.encode(.device, id)))
    }

    /// `DELETE /v1/me/devices/{id}`: 204, or 404 when the caller has no such device.
    @Sendable func unregisterDevice(_ request: Request, context: ZvonokRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.requireIdentity()
        guard try await registrations.unregister(caller.personID, id: try request.id("id", .device, context: context)) else {
            throw ZvonokError.notFound("no such device")
        }
        return .noContent
    }
}

extension Body {
    struct NewPushSubscription: Decodable {
        struct Keys: Decodable {
            let p256dh: String
            let auth: String
        }

        let endpoint: String
        let keys: Keys
    }

    struct NewDevice: Decodable {
        let platform: String
        let token: String
    }
}

extension Wire {
    struct VAPIDKeyBody: ResponseEncodable {
        /// The uncompressed P-256 public key, base64url without padding.
        let key: String
    }

    struct IDBody: ResponseEncodable {
        let id: String
    }
}
