import Foundation
import Hummingbird
import NIOCore
import ZvonokCore
import ZvonokStorage

/// `PUT /v1/schools/{id}/roster`: a whole school in one request, as JSON or CSV (contract §3); `?dryRun=true` answers
/// what the upload would do and writes nothing.
struct RosterRoutes {
    let api: APIContext
    /// Rosters are the one body allowed past 1 MiB.
    static let maximumSize = 16 << 20

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        router.put("v1/schools/:id/roster", use: upload)
    }

    /// The answer: counts, refused rows, and invites for the people this upload created.
    struct Answer: ResponseEncodable {
        struct RowError: Encodable { let line: Int; let message: String }
        struct Invite: Encodable { let externalId: String; let id: String; let inviteCode: String }
        struct Row: Encodable { let line: Int; let externalId: String; let action: String }
        let created: Int
        let updated: Int
        let unchanged: Int
        let failed: Int
        let errors: [RowError]
        let invites: [Invite]
        /// A dry run's accepted rows, each with what the upload would do to it.
        let rows: [Row]?
    }

    @Sendable func upload(_ request: Request, context: ZvonokRequestContext) async throws -> Answer {
        let caller = try context.requireIdentity()
        let school = try await api.school(try request.id("id", .school, context: context))
        try caller.requireAdministers(school.placement)
        let roster = try await parse(request)
        let atomic = try request.flag("atomic")
        let dryRun = try request.flag("dryRun")
        do {
            let outcome = try await api.access.upload(
                roster, to: school, atomic: atomic, dryRun: dryRun, inviteLifetime: api.configuration.inviteLifetime, by: caller)
            return Answer(
                created: outcome.created, updated: outcome.updated, unchanged: outcome.unchanged, failed: outcome.failed,
                errors: outcome.errors.map { .init(line: $0.line, message: $0.message) },
                invites: outcome.invites.map { .init(externalId: $0.externalID, id: PublicID.encode(.person, $0.personID), inviteCode: $0.code) },
                rows: dryRun ? outcome.rows.map { .init(line: $0.line, externalId: $0.externalID, action: $0.action.rawValue) } : nil
            )
        } catch let rejected as RosterRejected {
            throw RosterRejection(errors: rejected.errors)
        }
    }

    private func parse(_ request: Request) async throws -> Roster {
        let body = try await request.body.collect(upTo: Self.maximumSize)
        let data = Data(body.readableBytesView)
        let contentType = request.headers[.contentType]?.lowercased() ?? "application/json"
        if contentType.hasPrefix("text/csv") { return try Roster.parse(csv: data) }
        if contentType.hasPrefix("application/json") { return try Roster.parse(json: data) }
        throw ZvonokError.invalidArgument("send the roster as application/json or text/csv")
    }
}

/// An atomic upload refused for its bad rows: 400 with the contract's error body, and the rows beside it.
struct RosterRejection: ResponseCarryingError {
    let errors: [Roster.RowError]
    var status: HTTPResponse.Status { .badRequest }

    /// The error body, with the refused rows beside it.
    struct RejectionBody: Encodable {
        struct Detail: Encodable { let code: String; let message: String }
        struct RowError: Encodable { let line: Int; let message: String }
        let error: Detail
        let errors: [RowError]
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = RejectionBody(
            error: .init(
                code: ErrorCode.invalidArgument.rawValue, message: "\(errors.count) rows were refused; with atomic=true nothing was applied"),
            errors: errors.map { .init(line: $0.line, message: $0.message) }
        )
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(body)))
        )
    }
}
