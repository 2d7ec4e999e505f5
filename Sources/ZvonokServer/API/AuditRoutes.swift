import Foundation
import Hummingbird
import ZvonokCore
import ZvonokStorage

/// `GET /v1/audit`: the administrative changes in the caller's part of the structure, oldest first.
struct AuditRoutes {
    let audit: AuditStore

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        router.get("v1/audit", use: list)
    }

    @Sendable func list(_ request: Request, context: ZvonokRequestContext) async throws -> Page<Wire.AuditEntryBody> {
        let scope = try Self.scope(of: context.requireIdentity())
        let page = try PageRequest(request)
        // An actor that is no person id made no entry.
        guard let filter = try Self.filter(request) else { return Page(items: [], next: nil) }
        let entries = try await audit.entries(in: scope, filter: filter, after: try page.afterID(), limit: page.limit)
        return page.page(entries, key: { String($0.id) }, wire: Wire.AuditEntryBody.init)
    }

    /// What the caller may read: the ministry everything, an admin their own region, municipality or school.
    static func scope(of caller: Identity) throws(ZvonokError) -> AuditStore.Scope {
        let scope: AuditStore.Scope? =
            switch caller.role {
            case .ministry: .everything
            case .regionalAdmin: caller.regionCode.map(AuditStore.Scope.region)
            case .municipalAdmin: caller.municipalityID.map(AuditStore.Scope.municipality)
            case .schoolAdmin: caller.schoolID.map(AuditStore.Scope.school)
            case .teacher, .student, .guardian: nil
            }
        guard let scope else { throw .forbidden("only the ministry and admins read the audit log") }
        return scope
    }

    /// `?since=` (RFC 3339), `?actor=` (a person id) and `?action=`; nil when the actor is no person id or the action
    /// holds a NUL (which no stored action can), so that no entry matches. An empty `action` or `actor` is no filter;
    /// an empty `since` is no time (400).
    static func filter(_ request: Request) throws(ZvonokError) -> AuditStore.Filter? {
        let query = request.uri.queryParameters
        let action = query.get("action").flatMap { $0.isEmpty ? nil : $0 }
        if let action, action.unicodeScalars.contains("\0") { return nil }
        var filter = AuditStore.Filter(action: action)
        if let since = query.get("since") {
            guard let date = Wire.parseTimestamp(since) else {
                throw .invalidArgument("since must be an RFC 3339 time, such as 2026-11-25T08:30:00Z")
            }
            filter.since = date
        }
        if let actor = query.get("actor"), !actor.isEmpty {
            guard let id = PublicID.decode(.person, actor) else { return nil }
            filter.actorID = id
        }
        return filter
    }
}
