import Hummingbird
import NIOCore
import ZvonokCore
import ZvonokStorage

/// Personal data (issue 20; 152-FZ): the export of what Zvonok holds about the caller, or, for an admin, about a
/// person in their subtree (a guardian asking on behalf of their child, say, art. 14); and a school's choice for the
/// people it erases — keep their messages for the others' history, attributed to «Удалённый пользователь» (the
/// default), or delete them too — set by the admins over the school, audited.
struct PersonalDataRoutes {
    let api: APIContext
    let exports: ExportStore
    let erasures: ErasureStore

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        let v1 = router.group("v1")
        v1.get("me/export", use: myExport)
        v1.get("people/:id/export", use: personExport)
        v1.get("schools/:id/erasure", use: erasurePolicy)
        v1.put("schools/:id/erasure", use: setErasurePolicy)
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

    /// `GET /v1/schools/{id}/erasure`.
    @Sendable func erasurePolicy(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.ErasurePolicyBody {
        let school = try await administered(request, context: context)
        return Wire.ErasurePolicyBody(
            school: PublicID.encode(.school, school.id), deleteMessages: try await erasures.deletesMessages(school: school.id))
    }

    /// `PUT /v1/schools/{id}/erasure` `{deleteMessages}`.
    @Sendable func setErasurePolicy(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.ErasurePolicyBody {
        let school = try await administered(request, context: context)
        let body = try await request.decodeBody(Body.ErasurePolicy.self, context: context)
        try await erasures.setDeletesMessages(body.deleteMessages, school: school.id, by: try context.requireIdentity(), at: school.placement)
        return Wire.ErasurePolicyBody(school: PublicID.encode(.school, school.id), deleteMessages: body.deleteMessages)
    }

    /// The school of the path, for the admins over it.
    private func administered(_ request: Request, context: ZvonokRequestContext) async throws -> School {
        let caller = try context.requireIdentity()
        let school = try await api.school(try request.id("id", .school, context: context))
        try caller.requireAdministers(school.placement)
        return school
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

extension Body {
    struct ErasurePolicy: Decodable {
        let deleteMessages: Bool
    }
}

extension Wire {
    struct ErasurePolicyBody: ResponseEncodable {
        let school: String
        let deleteMessages: Bool
    }
}
