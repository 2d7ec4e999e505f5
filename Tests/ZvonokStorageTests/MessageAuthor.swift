import ZvonokCore
import ZvonokStorage
import ZvonokTestSupport

/// The author of the messages the storage tests store: person 1, made in the test's database, since an edit or a
/// deletion names its author and the revisions it keeps refer to people (sql/009).
enum MessageAuthor {
    static let identity = Identity(personID: 1, role: .ministry, name: "Автор", regionCode: nil, municipalityID: nil, schoolID: nil, classID: nil)

    /// Someone else, who may not change the author's messages.
    static let stranger = Identity(personID: 99, role: .teacher, name: "Чужой", regionCode: nil, municipalityID: nil, schoolID: nil, classID: nil)

    /// Makes person 1 unless the test's chats made them already (`enrol`); people the test adds itself come after.
    static func create(in database: Database) async throws {
        try await enrol([identity.personID], in: [], on: database)
    }
}
