import PostgresNIO
import ZvonokCore
import ZvonokStorage

/// The author of the messages the storage tests store: person 1, made in the test's database, since an edit or a
/// deletion names its author and the revisions it keeps refer to people (sql/009).
enum MessageAuthor {
    static let identity = Identity(personID: 1, role: .ministry, name: "Автор", regionCode: nil, municipalityID: nil, schoolID: nil, classID: nil)

    /// Someone else, who may not change the author's messages.
    static let stranger = Identity(personID: 99, role: .teacher, name: "Чужой", regionCode: nil, municipalityID: nil, schoolID: nil, classID: nil)

    static func create(in database: Database) async throws {
        try await database.client.query("INSERT INTO people (id, role, name) OVERRIDING SYSTEM VALUE VALUES (1, 'ministry', 'Автор')")
        // People the test adds itself come after.
        try await database.client.query("SELECT setval(pg_get_serial_sequence('people', 'id'), 1)")
    }
}
