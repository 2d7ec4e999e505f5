import Hummingbird
import ZvonokCore
import ZvonokStorage

/// Invite activation, the caller's own account and chats, and direct chats (contract §2–4).
struct AccountRoutes {
    let api: APIContext
    let activationLimiter: RateLimiter

    init(api: APIContext) {
        self.api = api
        // Ten failed tries at once, then one every six seconds per address. Only failures count: a whole school
        // behind one address activating its invites in a morning is never slowed, while guessing a 100-bit code
        // stays hopeless.
        self.activationLimiter = RateLimiter(.init(capacity: 10, perSecond: 1.0 / 6))
    }

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        let v1 = router.group("v1")
        v1.post("invites/:code/activate", use: activate)
        v1.get("me", use: me)
        v1.get("me/chats", use: myChats)
        v1.delete("me/token", use: signOut)
        v1.post("chats/direct", use: openDirect)
    }

    @Sendable func activate(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.ActivationBody {
        // The body is optional, and `{}` when given (the document's object): anything else is refused.
        var request = request
        if try await request.collectBody(upTo: context.maxUploadSize).readableBytes > 0 {
            _ = try await request.decodeBody(Body.Nothing.self, context: context)
        }
        let address = context.clientAddress(of: request, trustingProxy: api.configuration.trustProxyHeaders)
        guard activationLimiter.hasCapacity(address) else {
            throw ZvonokError.rateLimited("too many failed activation attempts from this address; wait a minute")
        }
        guard let code = InviteCode.normalize(context.parameters.get("code") ?? ""),
            let (personID, token, expiresAt) = try await api.credentials.activate(inviteCode: code)
        else {
            activationLimiter.allow(address)
            throw ZvonokError.notFound("unknown, used or expired invite code")
        }
        return Wire.ActivationBody(userId: PublicID.encode(.person, personID), token: token, expiresAt: expiresAt)
    }

    @Sendable func me(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.PersonBody {
        let caller = try context.requireIdentity()
        return Wire.PersonBody(try await api.person(caller.personID))
    }

    @Sendable func myChats(_ request: Request, context: ZvonokRequestContext) async throws -> Page<Wire.ChatBody> {
        let caller = try context.requireIdentity()
        let page = try PageRequest(request)
        let chats = try await api.chats.chats(of: caller.personID, after: try page.afterID(), limit: page.limit)
        return page.page(chats, key: { String($0.id) }, wire: Wire.ChatBody.init)
    }

    /// Ends the caller's session: this token stops working and its open connections close (4001); the person's
    /// other sessions go on.
    @Sendable func signOut(_ request: Request, context: ZvonokRequestContext) async throws -> HTTPResponse.Status {
        let session = try context.requireSession()
        try await api.access.signOut(session)
        return .noContent
    }

    @Sendable func openDirect(_ request: Request, context: ZvonokRequestContext) async throws -> EditedResponse<Wire.ChatBody> {
        let caller = try context.requireIdentity()
        let body = try await request.decodeBody(Body.DirectChat.self, context: context)
        guard let otherID = PublicID.decode(.person, body.userId), let other = try await api.people.person(id: otherID) else {
            throw ZvonokError.notFound("no such person")
        }
        guard ChatPolicy.mayOpenDirect(caller, other.identity) else {
            throw ZvonokError.forbidden("direct chats are teacher↔guardian, teacher↔student and staff↔staff of one school")
        }
        let (chat, created) = try await api.access.openDirect(caller, other.identity)
        return EditedResponse(status: created ? .created : .ok, response: Wire.ChatBody(chat))
    }
}
