import Hummingbird
import ZvonokCore
import ZvonokStorage

/// People and their places: staff, class teachers, students, guardians, admins, invites (contract §1, §3).
struct PeopleRoutes {
    let api: APIContext

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        let v1 = router.group("v1")
        v1.post("schools/:id/staff", use: createStaff)
        v1.get("schools/:id/staff", use: listStaff)
        v1.post("classes/:id/teachers", use: assignTeacher)
        v1.get("classes/:id/teachers", use: listTeachers)
        v1.delete("classes/:id/teachers/:staffId", use: unassignTeacher)
        v1.post("classes/:id/students", use: createStudent)
        v1.get("classes/:id/students", use: listStudents)
        v1.post("students/:id/guardians", use: createGuardian)
        v1.get("students/:id/guardians", use: listGuardians)
        v1.post("regions/:code/admins", use: createRegionalAdmin)
        v1.get("regions/:code/admins", use: listRegionalAdmins)
        v1.post("municipalities/:id/admins", use: createMunicipalAdmin)
        v1.get("municipalities/:id/admins", use: listMunicipalAdmins)
        v1.get("people/:id", use: getPerson)
        v1.patch("people/:id", use: changePerson)
        v1.delete("people/:id", use: removePerson)
        v1.post("people/:id/invite", use: reissueInvite)
        v1.delete("people/:id/tokens", use: signOutEverywhere)
        v1.get("people/:id/identity", use: identity)
        v1.put("people/:id/identity", use: setIdentity)
        v1.delete("people/:id/identity", use: unlinkIdentity)
    }

    // MARK: School people

    @Sendable func createStaff(_ request: Request, context: ZvonokRequestContext) async throws -> EditedResponse<Wire.PersonBody> {
        let caller = try context.requireIdentity()
        let school = try await api.school(try request.id("id", .school, context: context))
        try caller.requireAdministers(school.placement)
        let body = try await request.decodeBody(Body.NewStaff.self, context: context)
        guard let role = Role(rawValue: body.role), role.isStaff else {
            throw ZvonokError.invalidArgument("role must be teacher or school_admin")
        }
        return try await create(role, name: body.name, externalID: body.externalId, at: school.placement, by: caller)
    }

    @Sendable func listStaff(_ request: Request, context: ZvonokRequestContext) async throws -> Page<Wire.PersonBody> {
        let caller = try context.requireIdentity()
        let school = try await api.school(try request.id("id", .school, context: context))
        try caller.requireOversees(school.placement)
        return try await list(.staff(schoolID: school.id), request)
    }

    @Sendable func assignTeacher(_ request: Request, context: ZvonokRequestContext) async throws -> EditedResponse<Wire.AssignmentBody> {
        let caller = try context.requireIdentity()
        let (schoolClass, school) = try await api.schoolClass(try request.id("id", .class, context: context))
        try caller.requireAdministers(school.placement)
        let body = try await request.decodeBody(Body.Assignment.self, context: context)
        let staff = try await staffMember(body.staffId, of: school)
        let homeroom = body.homeroom ?? false
        let created = try await api.access.assignTeacher(staff, to: schoolClass, homeroom: homeroom, school: school, by: caller)
        let answer = Wire.AssignmentBody(
            classId: PublicID.encode(.class, schoolClass.id), staffId: PublicID.encode(.person, staff.id), homeroom: homeroom)
        return EditedResponse(status: created ? .created : .ok, response: answer)
    }

    @Sendable func unassignTeacher(_ request: Request, context: ZvonokRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.requireIdentity()
        let (schoolClass, school) = try await api.schoolClass(try request.id("id", .class, context: context))
        try caller.requireAdministers(school.placement)
        let staff = try await staffMember(context.parameters.get("staffId") ?? "", of: school)
        try await api.access.unassignTeacher(staff, from: schoolClass, school: school, by: caller)
        return .noContent
    }

    @Sendable func listTeachers(_ request: Request, context: ZvonokRequestContext) async throws -> Page<Wire.PersonBody> {
        let caller = try context.requireIdentity()
        let (schoolClass, school) = try await api.schoolClass(try request.id("id", .class, context: context))
        try caller.requireOversees(school.placement)
        let page = try PageRequest(request)
        let teachers = try await api.people.teachers(of: schoolClass, after: try page.afterID(), limit: page.limit)
        return page.page(teachers, key: { String($0.person.id) }, wire: { Wire.PersonBody($0.person, homeroom: $0.homeroom) })
    }

    @Sendable func createStudent(_ request: Request, context: ZvonokRequestContext) async throws -> EditedResponse<Wire.PersonBody> {
        let caller = try context.requireIdentity()
        let (schoolClass, school) = try await api.schoolClass(try request.id("id", .class, context: context))
        try caller.requireAdministers(school.placement)
        let body = try await request.decodeBody(Body.NewNamed.self, context: context)
        return try await create(.student, name: body.name, externalID: body.externalId, at: school.placement, classID: schoolClass.id, by: caller)
    }

    @Sendable func listStudents(_ request: Request, context: ZvonokRequestContext) async throws -> Page<Wire.PersonBody> {
        let caller = try context.requireIdentity()
        let (schoolClass, school) = try await api.schoolClass(try request.id("id", .class, context: context))
        try caller.requireOversees(school.placement)
        return try await list(.students(classID: schoolClass.id), request)
    }

    @Sendable func createGuardian(_ request: Request, context: ZvonokRequestContext) async throws -> EditedResponse<Wire.PersonBody> {
        let caller = try context.requireIdentity()
        let student = try await api.person(try request.id("id", .person, context: context), role: .student)
        try caller.requireAdministers(student.placement)
        let body = try await request.decodeBody(Body.NewNamed.self, context: context)
        return try await create(.guardian, name: body.name, externalID: body.externalId, at: student.placement, studentID: student.id, by: caller)
    }

    @Sendable func listGuardians(_ request: Request, context: ZvonokRequestContext) async throws -> Page<Wire.PersonBody> {
        let caller = try context.requireIdentity()
        let student = try await api.person(try request.id("id", .person, context: context), role: .student)
        try caller.requireOversees(student.placement)
        return try await list(.guardians(studentID: student.id), request)
    }

    // MARK: Admins

    @Sendable func createRegionalAdmin(_ request: Request, context: ZvonokRequestContext) async throws -> EditedResponse<Wire.PersonBody> {
        let caller = try context.requireIdentity()
        let region = try await api.region(context.parameters.get("code") ?? "")
        guard caller.role == .ministry else { throw ZvonokError.forbidden("only the ministry appoints regional admins") }
        let body = try await request.decodeBody(Body.NewNamed.self, context: context)
        return try await create(.regionalAdmin, name: body.name, externalID: body.externalId, at: Placement(regionCode: region.code), by: caller)
    }

    @Sendable func listRegionalAdmins(_ request: Request, context: ZvonokRequestContext) async throws -> Page<Wire.PersonBody> {
        let caller = try context.requireIdentity()
        let region = try await api.region(context.parameters.get("code") ?? "")
        try caller.requireOversees(Placement(regionCode: region.code))
        return try await list(.regionalAdmins(regionCode: region.code), request)
    }

    @Sendable func createMunicipalAdmin(_ request: Request, context: ZvonokRequestContext) async throws -> EditedResponse<Wire.PersonBody> {
        let caller = try context.requireIdentity()
        let municipality = try await api.municipality(try request.id("id", .municipality, context: context))
        // The level above: the region's admins appoint a municipality's.
        try caller.requireAdministers(Placement(regionCode: municipality.regionCode))
        let body = try await request.decodeBody(Body.NewNamed.self, context: context)
        return try await create(.municipalAdmin, name: body.name, externalID: body.externalId, at: municipality.placement, by: caller)
    }

    @Sendable func listMunicipalAdmins(_ request: Request, context: ZvonokRequestContext) async throws -> Page<Wire.PersonBody> {
        let caller = try context.requireIdentity()
        let municipality = try await api.municipality(try request.id("id", .municipality, context: context))
        try caller.requireOversees(municipality.placement)
        return try await list(.municipalAdmins(municipalityID: municipality.id), request)
    }

    // MARK: One person

    @Sendable func getPerson(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.PersonBody {
        let caller = try context.requireIdentity()
        let person = try await api.person(try request.id("id", .person, context: context))
        guard caller.personID == person.id || caller.manages(person) || caller.role == .ministry || caller.oversees(person.placement) else {
            throw ZvonokError.forbidden("outside your part of the structure")
        }
        return Wire.PersonBody(person)
    }

    @Sendable func changePerson(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.PersonBody {
        let caller = try context.requireIdentity()
        let person = try await managed(request, context: context)
        let body = try await request.decodeBody(Body.PersonChange.self, context: context)
        if let name = body.name {
            try await api.people.rename(person, to: try Validation.name(name), by: caller)
        }
        if let classID = body.classId {
            // A well-formed request the person's role or school rules out: a conflict with what they are, not bad input.
            guard person.role == .student else { throw ZvonokError.conflict("only students move between classes") }
            guard let id = PublicID.decode(.class, classID) else { throw ZvonokError.notFound("no such class") }
            let (target, _) = try await api.schoolClass(id)
            guard target.schoolID == person.schoolID else {
                throw ZvonokError.conflict("a student moves within their school; another school lists them anew")
            }
            try await api.access.moveStudent(person, to: target, by: caller)
        }
        return Wire.PersonBody(try await api.person(person.id))
    }

    /// `DELETE /v1/people/{id}` removes; `?erase=now` also erases the person's data at once (issue 20), and reaches
    /// people removed before but not erased yet.
    @Sendable func removePerson(_ request: Request, context: ZvonokRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.requireIdentity()
        switch request.uri.queryParameters.get("erase") {
        case nil:
            try await api.access.remove(try await managed(request, context: context), by: caller)
        case "now":
            let person = try await api.people.personNotErased(id: try request.id("id", .person, context: context))
            guard let person else { throw ZvonokError.notFound("no such person") }
            guard caller.manages(person) else { throw ZvonokError.forbidden("only the level above may change this person") }
            try await api.access.erase(person, by: caller)
        default:
            throw ZvonokError.invalidArgument("erase takes one value: now")
        }
        return .noContent
    }

    /// A fresh invite for a lost or handed-on phone: the old code and every session of the person end with it.
    @Sendable func reissueInvite(_ request: Request, context: ZvonokRequestContext) async throws -> EditedResponse<Wire.InviteBody> {
        let caller = try context.requireIdentity()
        let person = try await managed(request, context: context)
        let code = try await api.access.reissueInvite(to: person, lifetime: api.configuration.inviteLifetime, by: caller)
        return EditedResponse(status: .created, response: Wire.InviteBody(id: PublicID.encode(.person, person.id), inviteCode: code))
    }

    /// Signs a person out everywhere: every token revoked, every open connection closed (4001).
    @Sendable func signOutEverywhere(_ request: Request, context: ZvonokRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.requireIdentity()
        let person = try await managed(request, context: context)
        try await api.access.signOutEverywhere(person, by: caller)
        return .noContent
    }

    // MARK: Shared steps

    private func create(
        _ role: Role, name: String, externalID: String?, at placement: Placement, classID: Int64? = nil, studentID: Int64? = nil,
        by caller: Identity
    ) async throws -> EditedResponse<Wire.PersonBody> {
        let new = PeopleStore.NewPerson(
            role: role, name: try Validation.name(name), externalID: try Validation.externalID(externalID), placement: placement,
            classID: classID, studentID: studentID
        )
        let created = try await api.access.create(new, inviteLifetime: api.configuration.inviteLifetime, by: caller)
        return EditedResponse(status: .created, response: Wire.PersonBody(created.person, inviteCode: created.inviteCode))
    }

    private func list(_ group: PeopleStore.Group, _ request: Request) async throws -> Page<Wire.PersonBody> {
        let page = try PageRequest(request)
        let people = try await api.people.people(in: group, after: try page.afterID(), limit: page.limit)
        return page.page(people, key: { String($0.id) }, wire: { Wire.PersonBody($0) })
    }

    /// A staff member of `school` named by an id in a body or path; anyone else is not found there.
    private func staffMember(_ id: String, of school: School) async throws -> Person {
        guard let personID = PublicID.decode(.person, id), let staff = try await api.people.person(id: personID),
            staff.role.isStaff, staff.schoolID == school.id
        else { throw ZvonokError.notFound("no such staff member in this school") }
        return staff
    }

    /// The person at `:id`, whom the caller must manage.
    func managed(_ request: Request, context: ZvonokRequestContext) async throws -> Person {
        let caller = try context.requireIdentity()
        let person = try await api.person(try request.id("id", .person, context: context))
        guard caller.manages(person) else { throw ZvonokError.forbidden("only the level above may change this person") }
        return person
    }
}
