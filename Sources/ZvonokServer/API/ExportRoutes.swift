import Hummingbird
import NIOCore
import ZvonokCore
import ZvonokStorage

/// The personal-data export (issue 20; 152-FZ art. 14): what Zvonok holds about the caller, or, for an admin, about a
/// person in their subtree (a guardian asking on behalf of their child, say).
struct ExportRoutes {
    let api: APIContext
    let exports: ExportStore

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        let v1 = router.group("v1")
        v1.get("me/export", use: myExport)
        v1.get("people/:id/export", use: personExport)
    }

    /// `GET /v1/me/export`.
    @Sendable func myExport(_ request: Request, context: ZvonokRequestContext) async throws -> Response {
        let caller = try context.requireIdentity()
        return try await document(of: try await api.person(caller.personID))
    }

    /// `GET /v1/people/{id}/export`: for the admins over the person (who may also erase them), removed or not.
    @Sendable func personExport(_ request: Request, context: ZvonokRequestContext) async throws -> Response {
        let caller = try context.requireIdentity()
        guard let person = try await api.people.personNotErased(id: try request.id("id", .person, context: context)) else {
            throw ZvonokError.notFound("no such person")
        }
        guard caller.manages(person) else { throw ZvonokError.forbidden("only the admins over this person export their data") }
        return try await document(of: person)
    }

    private func document(of person: Person) async throws -> Response {
        let json = try await exports.export(person)
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/json; charset=utf-8",
                .contentDisposition: "attachment; filename=\"zvonok-\(PublicID.encode(.person, person.id)).json\"",
            ],
            body: .init(byteBuffer: ByteBuffer(string: json)))
    }
}
