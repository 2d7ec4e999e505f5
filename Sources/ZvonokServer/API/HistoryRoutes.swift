import Hummingbird
import ZvonokCore
import ZvonokStorage

/// `GET /v1/chats/{id}/messages`: a chat's history, newest first, for its members (contract §3).
struct HistoryRoutes {
    let messages: MessageStore

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        router.get("v1/chats/:id/messages", use: history)
    }

    @Sendable func history(_ request: Request, context: ZvonokRequestContext) async throws -> Page<Wire.MessageBody> {
        let caller = try context.requireIdentity()
        let chatID = try request.id("id", .chat, context: context)
        // Not a member: the chat does not exist as far as the caller can tell.
        guard try await messages.isMember(caller.personID, of: chatID) else { throw ZvonokError.notFound("no such chat") }
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
