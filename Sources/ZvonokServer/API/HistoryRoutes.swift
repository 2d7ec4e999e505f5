import Hummingbird
import ZvonokCore
import ZvonokStorage

/// `GET /v1/chats/{id}/messages`: a chat's history, newest first, for its members (contract §3); and
/// `GET /v1/chats/{id}/members`, the names behind the messages' `from`.
struct HistoryRoutes {
    let messages: MessageStore
    let chats: ChatStore

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        router.get("v1/chats/:id/messages", use: history)
        router.get("v1/chats/:id/members", use: members)
    }

    /// Students and guardians see only the staff of school-wide and municipality chats (`ChatPolicy.seesOnlyStaff`),
    /// with the number of members; everyone else sees every member.
    @Sendable func members(_ request: Request, context: ZvonokRequestContext) async throws -> MemberPage {
        let (chatID, kind) = try await memberChat(request, context: context)
        let page = try PageRequest(request)
        let staffOnly = ChatPolicy.seesOnlyStaff(role: try context.requireIdentity().role, in: kind)
        let members = try await chats.members(of: chatID, staffOnly: staffOnly, after: try page.afterID(), limit: page.limit)
        return MemberPage(
            page: page.page(members, key: { String($0.id) }, wire: Wire.MemberBody.init), memberCount: try await chats.memberCount(of: chatID)
        )
    }

    /// The chat of the path and its kind, when the caller is a member; otherwise it does not exist as far as they can tell.
    private func memberChat(_ request: Request, context: ZvonokRequestContext) async throws -> (Int64, ChatKind) {
        let caller = try context.requireIdentity()
        let chatID = try request.id("id", .chat, context: context)
        guard let kind = try await messages.membershipKind(of: caller.personID, in: chatID) else { throw ZvonokError.notFound("no such chat") }
        return (chatID, kind)
    }

    @Sendable func history(_ request: Request, context: ZvonokRequestContext) async throws -> Page<Wire.MessageBody> {
        let (chatID, _) = try await memberChat(request, context: context)
        let page = try PageRequest(request)
        var before = try page.after.map { key throws(ZvonokError) -> Int64 in
            guard let seq = Int64(key) else { throw .invalidArgument("cursor is not one this server gave") }
            return seq
        }
        if let text = request.uri.queryParameters.get("before") {
            guard let seq = Int64(text), seq > 0 else { throw ZvonokError.invalidArgument("before must be a positive seq") }
            before = seq
        }
        let history = try await messages.history(of: chatID, before: before, limit: page.limit)
        let next = history.count == page.limit && (history.last?.seq ?? 0) > 1 ? history.last.map { Cursor.encode(String($0.seq)) } : nil
        return Page(items: history.map(Wire.MessageBody.init), next: next)
    }
}
