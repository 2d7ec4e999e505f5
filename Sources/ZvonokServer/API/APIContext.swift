import ZvonokCore
import ZvonokStorage

/// What the HTTP routes share: the stores, the settings they need, and look-ups that answer 404 for what is not there.
struct APIContext: Sendable {
    let structure: StructureStore
    let people: PeopleStore
    let credentials: CredentialStore
    /// Links to a sign-in provider's subjects, and the sign-ins under way.
    let identities: IdentityStore
    let chats: ChatStore
    let configuration: ServerConfiguration
    /// Changes of memberships and sessions, which the open connections follow: the only way routes make them.
    let access: AccessService

    init(database: Database, configuration: ServerConfiguration, connections: any OpenConnections) {
        structure = StructureStore(database: database)
        people = PeopleStore(database: database)
        credentials = CredentialStore(database: database, tokenLifetime: configuration.tokenLifetime)
        identities = IdentityStore(credentials: credentials)
        chats = ChatStore(database: database)
        self.configuration = configuration
        access = AccessService(database: database, credentials: credentials, connections: connections)
    }

    func region(_ code: String) async throws -> Region {
        guard let region = try await structure.region(code: code) else { throw ZvonokError.notFound("no such region") }
        return region
    }

    func municipality(_ id: Int64) async throws -> Municipality {
        guard let municipality = try await structure.municipality(id: id) else { throw ZvonokError.notFound("no such municipality") }
        return municipality
    }

    func school(_ id: Int64) async throws -> School {
        guard let school = try await structure.school(id: id) else { throw ZvonokError.notFound("no such school") }
        return school
    }

    /// A class with its school (whose placement decides who may touch the class).
    func schoolClass(_ id: Int64) async throws -> (SchoolClass, School) {
        guard let schoolClass = try await structure.schoolClass(id: id) else { throw ZvonokError.notFound("no such class") }
        return (schoolClass, try await school(schoolClass.schoolID))
    }

    func person(_ id: Int64) async throws -> Person {
        guard let person = try await people.person(id: id) else { throw ZvonokError.notFound("no such person") }
        return person
    }

    /// A person who must hold `role` (a student where a student is expected, say); others answer 404.
    func person(_ id: Int64, role: Role) async throws -> Person {
        let person = try await person(id)
        guard person.role == role else { throw ZvonokError.notFound("no such \(role.rawValue)") }
        return person
    }
}

/// What the registration API tells the open connections (the messaging hub), so that a change reaches them at once,
/// on every node.
protocol OpenConnections: Sendable {
    /// People's chats changed: their connections follow (on this node before this returns).
    func membershipChanged(_ changes: [MembershipChange]) async
    /// Sessions ended — every session of `person`, or the one of `token`: their connections close with 4001.
    func sessionsEnded(of person: Int64, token: Int64?)
}
