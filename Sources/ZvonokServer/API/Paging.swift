import Hummingbird
import ZvonokCore

/// `?limit=` (1–200, default 50) and `?cursor=` of every list endpoint.
struct PageRequest {
    let limit: Int
    /// The key of the last item already seen, from the cursor.
    let after: String?

    init(_ request: Request) throws(ZvonokError) {
        let query = request.uri.queryParameters
        if let text = query.get("limit") {
            guard let limit = Int(text), (1...200).contains(limit) else { throw .invalidArgument("limit must be 1 to 200") }
            self.limit = limit
        } else {
            self.limit = 50
        }
        if let cursor = query.get("cursor"), !cursor.isEmpty {
            guard let key = Cursor.decode(cursor) else { throw .invalidArgument("cursor must be 1 to 18 digits, as `next` gave it") }
            self.after = key
        } else {
            self.after = nil
        }
    }

    /// The cursor key as a row id (0 before the first page).
    func afterID() throws(ZvonokError) -> Int64 {
        guard let after else { return 0 }
        guard let id = Int64(after) else { throw .invalidArgument("cursor is not one this server gave") }
        return id
    }

    /// A page of `items`; `next` is set only when the page is full, keyed by its last item.
    func page<Item, Wire: Encodable & Sendable>(_ items: [Item], key: (Item) -> String, wire: (Item) -> Wire) -> Page<Wire> {
        let next = items.count == limit ? items.last.map { Cursor.encode(key($0)) } : nil
        return Page(items: items.map(wire), next: next)
    }
}

/// The contract's list shape: `{"items": [...], "next": <cursor or null>}`.
struct Page<Item: Encodable & Sendable>: ResponseEncodable {
    let items: [Item]
    let next: String?

    enum CodingKeys: CodingKey { case items, next }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        // `next` is null on the last page rather than missing, as the contract shows.
        try container.encode(next, forKey: .next)
    }
}

/// A page of a chat's members with how many members the chat has in all: `{"items", "next", "memberCount"}` (a
/// student sees only the staff of the school channel; how many people read it is no secret).
struct MemberPage: ResponseEncodable {
    let page: Page<Wire.MemberBody>
    let memberCount: Int

    enum CodingKeys: CodingKey { case memberCount }

    func encode(to encoder: any Encoder) throws {
        try page.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(memberCount, forKey: .memberCount)
    }
}
