import PostgresNIO
public import ZvonokCore
public import ZvonokStorage

extension MessageStore {
    /// Commits a batch whose senders may all post (tests that write into chats directly); a refusal throws.
    public func commitAccepted(_ batch: [PendingMessage]) async throws -> [CommittedMessage] {
        try await commit(batch).map { try $0.get() }
    }
}

/// Makes `people` members of `chats` for tests that write into bare chats: each id that names no person yet gets a
/// ministry account of that id (ministry accounts belong nowhere in the structure), so the group commit, which lets
/// only members post, takes their messages.
public func enrol(_ people: [Int64], in chats: [Int64], on database: Database) async throws {
    try await database.client.query(
        """
        INSERT INTO people (id, role, name) OVERRIDING SYSTEM VALUE
        SELECT p, 'ministry', 'Участник ' || p FROM unnest(\(people)::bigint[]) AS p
        ON CONFLICT (id) DO NOTHING
        """
    )
    // People created afterwards get ids beyond these.
    try await database.client.query("SELECT setval(pg_get_serial_sequence('people', 'id'), (SELECT max(id) FROM people))")
    try await database.client.query(
        """
        INSERT INTO chat_members (chat_id, person_id)
        SELECT c, p FROM unnest(\(chats)::bigint[]) AS c, unnest(\(people)::bigint[]) AS p
        ON CONFLICT DO NOTHING
        """
    )
}

/// Writes a token for `personID` as activation writes one, valid for a day, and returns it: a second session of one
/// person (a new invite would end the first).
public func mintToken(for personID: Int64, on database: Database) async throws -> String {
    let token = Secret.token()
    try await database.client.query(
        "INSERT INTO tokens (token_hash, person_id, expires_at) VALUES (sha256(convert_to(\(token), 'UTF8')), \(personID), now() + interval '1 day')"
    )
    return token
}
