import Foundation
import Hummingbird
import ZvonokCore
import ZvonokStorage

/// Who is notified when (issue 18): a member's mute of a chat, a school's quiet hours, a region's time zone.
struct NotificationSettingsRoutes {
    let api: APIContext
    let settings: NotificationSettingsStore
    let messages: MessageStore

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        let v1 = router.group("v1")
        v1.put("me/chats/:id/notifications", use: mute)
        v1.get("schools/:id/quiet-hours", use: quietHours)
        v1.put("schools/:id/quiet-hours", use: setQuietHours)
        v1.put("regions/:code/time-zone", use: setTimeZone)
    }

    /// `PUT /v1/me/chats/{id}/notifications` `{muted, until?}`: mutes a chat until a time, or until unmuted.
    @Sendable func mute(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.MuteBody {
        let caller = try context.requireIdentity()
        let chat = try request.id("id", .chat, context: context)
        let body = try await request.decodeBody(Body.Mute.self, context: context)
        let until = try body.until.map { text throws(ZvonokError) -> Date in
            guard let date = Wire.parseTimestamp(text) else { throw .invalidArgument("until must be an RFC 3339 time") }
            return date
        }
        guard body.muted || until == nil else { throw ZvonokError.invalidArgument("until goes with muted: true") }
        guard try await messages.isMember(caller.personID, of: chat) else { throw ZvonokError.notFound("no such chat") }
        try await settings.mute(caller.personID, chat: chat, muted: body.muted, until: until)
        return Wire.MuteBody(chat: PublicID.encode(.chat, chat), muted: body.muted, until: until.map(Wire.timestamp))
    }

    /// `GET /v1/schools/{id}/quiet-hours`: the school's quiet hours (the default until it sets its own).
    @Sendable func quietHours(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.QuietHoursBody {
        let caller = try context.requireIdentity()
        let school = try await api.school(try request.id("id", .school, context: context))
        guard caller.oversees(school.placement) || caller.placement.schoolID == school.id else { throw ZvonokError.notFound("no such school") }
        return Wire.QuietHoursBody(try await settings.quietHours(of: school.id))
    }

    /// `PUT /v1/schools/{id}/quiet-hours` `{from, to, applies}`: admins over the school.
    @Sendable func setQuietHours(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.QuietHoursBody {
        let caller = try context.requireIdentity()
        let school = try await api.school(try request.id("id", .school, context: context))
        try caller.requireAdministers(school.placement)
        let body = try await request.decodeBody(Body.QuietHours.self, context: context)
        let hours = try QuietHours(from: body.from, to: body.to, applies: body.applies)
        try await settings.setQuietHours(hours, of: school.id, by: caller, at: school.placement)
        return Wire.QuietHoursBody(hours)
    }

    /// `PUT /v1/regions/{code}/time-zone` `{timeZone}`: the region's IANA time zone, for its schools' quiet hours.
    @Sendable func setTimeZone(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.TimeZoneBody {
        let caller = try context.requireIdentity()
        let region = try await api.region(context.parameters.get("code") ?? "")
        try caller.requireAdministers(Placement(regionCode: region.code, municipalityID: nil, schoolID: nil))
        let body = try await request.decodeBody(Body.TimeZone.self, context: context)
        guard body.timeZone.utf8.count <= 64, try await settings.setTimeZone(body.timeZone, of: region.code, by: caller) else {
            throw ZvonokError.invalidArgument("timeZone must be an IANA time zone such as Asia/Omsk")
        }
        return Wire.TimeZoneBody(code: region.code, timeZone: body.timeZone)
    }
}

extension Body {
    struct Mute: Decodable {
        let muted: Bool
        @Omittable var until: String?
    }

    struct QuietHours: Decodable {
        let from: String
        let to: String
        let applies: [String]
    }

    struct TimeZone: Decodable {
        let timeZone: String
    }
}

extension Wire {
    struct MuteBody: ResponseEncodable {
        let chat: String
        let muted: Bool
        let until: String?
    }

    struct QuietHoursBody: ResponseEncodable {
        let from: String
        let to: String
        let applies: [String]

        init(_ hours: ZvonokCore.QuietHours) {
            from = ZvonokCore.QuietHours.clock(hours.from)
            to = ZvonokCore.QuietHours.clock(hours.to)
            applies = hours.applies.map(\.rawValue)
        }
    }

    struct TimeZoneBody: ResponseEncodable {
        let code: String
        let timeZone: String
    }
}
