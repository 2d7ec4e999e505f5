import ZvonokCore
import ZvonokStorage

/// Every change of who may reach what — people added, moved, assigned or removed, rosters, direct chats, sessions
/// ended — made in the database and then told to the open connections, here and on the other nodes.
///
/// The routes change memberships and sessions only through this service, so none can forget to tell the hub: the
/// hub is reachable from here alone (`APIContext` holds this service, not the hub).
struct AccessService: Sendable {
    private let people: PeopleStore
    private let credentials: CredentialStore
    private let chats: ChatStore
    private let rosters: RosterStore
    private let identities: IdentityStore
    private let rollovers: RolloverStore
    private let erasures: ErasureStore
    private let connections: any OpenConnections

    init(database: Database, credentials: CredentialStore, connections: any OpenConnections) {
        self.people = PeopleStore(database: database)
        self.credentials = credentials
        self.chats = ChatStore(database: database)
        self.rosters = RosterStore(database: database)
        self.identities = IdentityStore(credentials: credentials)
        self.rollovers = RolloverStore(database: database)
        self.erasures = ErasureStore(database: database)
        self.connections = connections
    }

    // MARK: Memberships

    /// A new person, in the chats of their class, school or child.
    func create(_ new: PeopleStore.NewPerson, inviteLifetime: Duration, by actor: Identity) async throws -> PeopleStore.Created {
        let created = try await people.create(new, inviteLifetime: inviteLifetime, by: actor)
        await connections.membershipChanged(created.changes)
        return created
    }

    /// A staff member teaches a class (or becomes or stops being its homeroom teacher); true when newly assigned.
    func assignTeacher(_ staff: Person, to schoolClass: SchoolClass, homeroom: Bool, school: School, by actor: Identity) async throws -> Bool {
        let assigned = try await people.assignTeacher(staff, to: schoolClass, homeroom: homeroom, school: school, by: actor)
        await connections.membershipChanged(assigned.changes)
        return assigned.created
    }

    func unassignTeacher(_ staff: Person, from schoolClass: SchoolClass, school: School, by actor: Identity) async throws {
        await connections.membershipChanged(try await people.unassignTeacher(staff, from: schoolClass, school: school, by: actor))
    }

    func moveStudent(_ student: Person, to schoolClass: SchoolClass, by actor: Identity) async throws {
        await connections.membershipChanged(try await people.moveStudent(student, to: schoolClass, by: actor))
    }

    /// A whole school's roster (contract §3).
    func upload(
        _ roster: Roster, to school: School, atomic: Bool, dryRun: Bool, inviteLifetime: Duration, by actor: Identity
    ) async throws -> RosterStore.Outcome {
        let outcome = try await rosters.upload(roster, to: school, atomic: atomic, dryRun: dryRun, inviteLifetime: inviteLifetime, by: actor)
        await connections.membershipChanged(outcome.changes)
        return outcome
    }

    /// A school rolled over into the next school year (or only planned, for a dry run): the leavers' sessions end and
    /// everyone's chats follow.
    func rollover(
        _ school: School, _ request: RolloverRequest, dryRun: Bool, archiveReadable: Duration, by actor: Identity
    ) async throws
        -> RolloverPlan
    {
        let outcome = try await rollovers.rollover(school, request, dryRun: dryRun, archiveReadable: archiveReadable, by: actor)
        if !dryRun {
            for leaver in outcome.plan.leaving { connections.sessionsEnded(of: leaver.personID, token: nil) }
        }
        await connections.membershipChanged(outcome.changes)
        return outcome.plan
    }

    /// The direct chat of two people, opened if new.
    func openDirect(_ first: Identity, _ second: Identity) async throws -> (chat: ChatSummary, created: Bool) {
        let opened = try await chats.openDirect(first, second)
        await connections.membershipChanged(opened.changes)
        return (opened.chat, opened.created)
    }

    // MARK: Sessions

    /// A person leaves: every session ends and every chat lets them go.
    func remove(_ person: Person, by actor: Identity) async throws {
        let changes = try await people.remove(person, by: actor)
        connections.sessionsEnded(of: person.id, token: nil)
        await connections.membershipChanged(changes)
    }

    /// A person erased at once (removed first if they were not): sessions end, chats let them go.
    func erase(_ person: Person, by actor: Identity) async throws {
        let changes = try await erasures.eraseNow(person, by: actor)
        connections.sessionsEnded(of: person.id, token: nil)
        await connections.membershipChanged(changes)
    }

    /// A fresh invite for a lost or handed-on phone: the old code and every session end with it.
    func reissueInvite(to person: Person, lifetime: Duration, by actor: Identity) async throws -> String {
        let code = try await people.reissueInvite(to: person, lifetime: lifetime, by: actor)
        connections.sessionsEnded(of: person.id, token: nil)
        return code
    }

    /// Every session of a person ends.
    func signOutEverywhere(_ person: Person, by actor: Identity) async throws {
        try await credentials.revokeAll(of: person, by: actor)
        connections.sessionsEnded(of: person.id, token: nil)
    }

    /// One session ends; the person's others go on.
    func signOut(_ session: CredentialStore.Session) async throws {
        try await credentials.revoke(session)
        connections.sessionsEnded(of: session.identity.personID, token: session.tokenID)
    }

    /// A person's provider accounts unlinked (issue 22): the sessions those sign-ins opened end. False when none was
    /// linked.
    func unlinkIdentity(_ person: Person, by actor: Identity) async throws -> Bool {
        guard let ended = try await identities.unlink(person, by: actor) else { return false }
        sessionsEnded(ended)
        return true
    }

    /// The provider's back-channel logout: the sessions that its sign-ins of the subject, or of its session `sid`,
    /// opened end.
    func endProviderSessions(issuer: String, subject: String?, sid: String?) async throws {
        sessionsEnded(try await identities.endSessions(issuer: issuer, subject: subject, sid: sid))
    }

    private func sessionsEnded(_ sessions: [IdentityStore.EndedSession]) {
        for session in sessions { connections.sessionsEnded(of: session.personID, token: session.tokenID) }
    }
}
