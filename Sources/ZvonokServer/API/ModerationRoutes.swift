import Hummingbird
import ZvonokCore
import ZvonokStorage

/// Moderation bound to the chat (issue 15): members report messages, and the admins over a chat read what edits
/// replaced and moderators deleted, list the open reports of their school and close them.
///
/// Who may see what: a chat one is not in answers 404, as one that does not exist; a member without the right 403.
/// Municipality chats belong to no school, so their messages are not reported: the municipal admins who moderate
/// them delete directly.
struct ModerationRoutes {
    let api: APIContext
    let moderation: ModerationStore
    /// Reports per person: ten at once, then one a minute — enough for any real complaint, too few to bury the admins.
    let reportLimiter = RateLimiter(.init(capacity: 10, perSecond: 1.0 / 60))

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        let v1 = router.group("v1")
        v1.get("chats/:id/messages/:seq/revisions", use: revisions)
        v1.post("chats/:id/messages/:seq/reports", use: report)
        v1.get("schools/:id/reports", use: openReports)
        v1.post("reports/:id/close", use: close)
    }

    /// `GET /v1/chats/{id}/messages/{seq}/revisions`: the texts a message had before each edit and at a moderator's
    /// deletion, oldest first, for the admins over the chat.
    @Sendable func revisions(_ request: Request, context: ZvonokRequestContext) async throws -> Page<Wire.RevisionBody> {
        let caller = try context.requireIdentity()
        let (chatID, seq) = try Self.message(request, context: context)
        guard let (chat, isMember) = try await moderation.chat(chatID, for: caller.personID), isMember || ChatPolicy.mayReview(chat, by: caller)
        else {
            throw ZvonokError.notFound("no such chat")
        }
        guard ChatPolicy.mayReview(chat, by: caller) else { throw ZvonokError.forbidden("only the admins over the chat read its revisions") }
        let page = try PageRequest(request)
        let revisions = try await moderation.revisions(chat: chatID, seq: seq, after: try page.afterID(), limit: page.limit)
        return page.page(revisions, key: { String($0.id) }, wire: Wire.RevisionBody.init)
    }

    /// `POST /v1/chats/{id}/messages/{seq}/reports` `{reason}`: a member reports a message to the school's admins.
    @Sendable func report(_ request: Request, context: ZvonokRequestContext) async throws -> EditedResponse<Wire.ReportBody> {
        let caller = try context.requireIdentity()
        let (chatID, seq) = try Self.message(request, context: context)
        guard let (chat, isMember) = try await moderation.chat(chatID, for: caller.personID), isMember else {
            throw ZvonokError.notFound("no such chat")
        }
        guard chat.placement.schoolID != nil else {
            throw ZvonokError.forbidden("municipality chats are moderated by their municipal admins, who delete directly")
        }
        let body = try await request.decodeBody(Body.NewReport.self, context: context)
        let reason = try Validation.reportReason(body.reason)
        guard reportLimiter.allow(String(caller.personID)) else { throw ZvonokError.rateLimited("too many reports; wait a minute") }
        let report = try await moderation.report(chat: chatID, seq: seq, by: caller, reason: reason, at: chat.placement)
        return EditedResponse(status: .created, response: Wire.ReportBody(report, showingText: false))
    }

    /// `GET /v1/schools/{id}/reports`: the school's open reports, oldest first, for the admins over the school.
    @Sendable func openReports(_ request: Request, context: ZvonokRequestContext) async throws -> Page<Wire.ReportBody> {
        let caller = try context.requireIdentity()
        let school = try await api.school(try request.id("id", .school, context: context))
        try caller.requireAdministers(school.placement)
        let page = try PageRequest(request)
        let reports = try await moderation.openReports(of: school.id, after: try page.afterID(), limit: page.limit)
        return page.page(reports, key: { String($0.id) }, wire: { Wire.ReportBody($0, showingText: true) })
    }

    /// `POST /v1/reports/{id}/close`: an admin over the report's school closes it.
    @Sendable func close(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.ReportBody {
        let caller = try context.requireIdentity()
        guard let report = try await moderation.report(id: try request.id("id", .report, context: context)) else {
            throw ZvonokError.notFound("no such report")
        }
        try caller.requireAdministers(report.placement)
        return Wire.ReportBody(try await moderation.close(report, by: caller), showingText: true)
    }

    /// The chat and seq of the path; anything else names no message (404).
    private static func message(_ request: Request, context: ZvonokRequestContext) throws(ZvonokError) -> (chat: Int64, seq: Int64) {
        let chat = try request.id("id", .chat, context: context)
        guard let seq = context.parameters.get("seq").flatMap({ Int64($0) }), seq > 0 else { throw .notFound("no such message") }
        return (chat, seq)
    }
}
