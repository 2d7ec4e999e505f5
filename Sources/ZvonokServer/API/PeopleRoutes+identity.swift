import Hummingbird
import ZvonokCore
import ZvonokStorage

/// What an admin sees and changes of a person's sign-in through a provider (issue 22): whether they linked, the
/// verified e-mail address that links them without an invite code, and unlinking.
extension PeopleRoutes {
    /// Whether the person linked a provider's account, and the e-mail address the school entered.
    @Sendable func identity(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.IdentityBody {
        let person = try await managed(request, context: context)
        return try await identityBody(of: person)
    }

    /// Sets the e-mail address (an empty one clears it) that a provider's verified address is matched against.
    @Sendable func setIdentity(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.IdentityBody {
        let caller = try context.requireIdentity()
        let person = try await managed(request, context: context)
        let body = try await request.decodeBody(Body.IdentityChange.self, context: context)
        try await api.identities.setEmail(try Validation.email(body.email), of: person, by: caller)
        return try await identityBody(of: person)
    }

    /// Unlinks the person's provider accounts and ends the sessions those sign-ins opened; 404 when none is linked.
    @Sendable func unlinkIdentity(_ request: Request, context: ZvonokRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.requireIdentity()
        let person = try await managed(request, context: context)
        guard try await api.access.unlinkIdentity(person, by: caller) else {
            throw ZvonokError.notFound("this person has not linked a sign-in provider's account")
        }
        return .noContent
    }

    private func identityBody(of person: Person) async throws -> Wire.IdentityBody {
        let links = try await api.identities.links(of: person.id)
        return Wire.IdentityBody(
            linked: !links.isEmpty, email: try await api.identities.email(of: person.id),
            links: links.map { Wire.IdentityBody.Link(issuer: $0.issuer, linkedBy: $0.linkedBy, linkedAt: Wire.timestamp($0.linkedAt)) }
        )
    }
}

extension Body {
    struct IdentityChange: Decodable { let email: String }
}

extension Wire {
    /// A person's sign-in through providers, as their admins see it.
    struct IdentityBody: ResponseEncodable {
        struct Link: Encodable {
            let issuer: String
            /// `invite` or `email`.
            let linkedBy: String
            let linkedAt: String
        }

        let linked: Bool
        let email: String?
        let links: [Link]
    }
}
