import Foundation
import NIOHTTP1

/// Makes a `LoadSetup` through the public API: a region and municipality, the schools, one roster upload per school
/// (`PUT /v1/schools/{id}/roster`, JSON), then every invite activated, many at a time.
public struct SetupBuilder: Sendable {
    public let api: HTTPAPI
    public let shape: SchoolShape
    /// Activations in flight at once.
    public var concurrency = 32
    public var log: @Sendable (String) -> Void = { _ in }

    public init(api: HTTPAPI, shape: SchoolShape) {
        self.api = api
        self.shape = shape
    }

    /// Reuses the setup saved at `path` when it was made for the same shape and server, or builds one and saves it there.
    public func loadOrBuild(path: String?) async throws -> LoadSetup {
        if let path, FileManager.default.fileExists(atPath: path) {
            let saved = try LoadSetup.load(from: path)
            guard saved.shape == shape, saved.server == api.base else {
                throw HTTPAPI.Failure(
                    description: "\(path) was made for \(saved.shape) on \(saved.server), not \(shape) on \(api.base); remove it or name another file"
                )
            }
            log("setup: reusing \(saved.people.count) people from \(path)")
            return saved
        }
        let setup = try await build()
        if let path {
            try setup.save(to: path)
            log("setup: saved to \(path)")
        }
        return setup
    }

    public func build() async throws -> LoadSetup {
        let started = ContinuousClock.now
        log("setup: creating \(shape)")
        let (municipality, admin) = try await api.makeRegionAndMunicipality()
        var invites: [(code: String, person: LoadSetup.Person)] = []
        for school in 0..<shape.schools {
            let id = try await api.makeSchool(in: municipality, name: "Школа \(school + 1)", admin: admin)
            let (roster, roles) = roster(school: school)
            let answer = try await api.send(.PUT, "/v1/schools/\(id)/roster", json: roster, token: admin)
            if let failed = answer["failed"] as? Int, failed > 0 {
                throw HTTPAPI.Failure(description: "roster of school \(school + 1): \(failed) rows failed: \(answer["errors"] ?? "")")
            }
            for invite in answer["invites"] as? [[String: Any]] ?? [] {
                guard let external = invite["externalId"] as? String, let code = invite["inviteCode"] as? String, let role = roles[external] else {
                    continue
                }
                invites.append((code, LoadSetup.Person(token: "", role: role.role, school: school, schoolClass: role.schoolClass)))
            }
        }
        log("setup: \(invites.count) invites; activating \(concurrency) at a time")
        let people = try await activate(invites)
        log(String(format: "setup: done in %.1f s", (ContinuousClock.now - started).seconds))
        return LoadSetup(shape: shape, server: api.base, people: people)
    }

    /// One school's roster as JSON, and each external id's role and class.
    func roster(school: Int) -> ([String: Any], [String: (role: LoadSetup.Role, schoolClass: Int)]) {
        var classes: [[String: Any]] = []
        var staff: [[String: Any]] = []
        var students: [[String: Any]] = []
        var guardians: [[String: Any]] = []
        var roles: [String: (LoadSetup.Role, Int)] = [:]
        let letters = Array("АБВГДЕЖИКЛМН")
        for index in 0..<shape.classesPerSchool {
            let classID = "S\(school)C\(index)"
            // Grades 1–11, then letters, then a digit, so that any number of classes gets distinct names.
            classes.append([
                "externalId": classID, "grade": index % 11 + 1, "letter": "\(letters[index / 11 % letters.count])\(index / 132 + 1)",
                "year": "2026/2027",
            ])
            for teacher in 0..<shape.teachersPerClass {
                let id = "\(classID)T\(teacher)"
                staff.append([
                    "externalId": id, "name": "Учитель \(index)-\(teacher)", "role": "teacher",
                    "classes": [["class": classID, "homeroom": teacher == 0]],
                ])
                roles[id] = (.teacher, index)
            }
            for student in 0..<shape.studentsPerClass {
                let id = "\(classID)S\(student)"
                students.append(["externalId": id, "name": "Ученик \(index)-\(student)", "class": classID])
                roles[id] = (.student, index)
                for guardian in 0..<shape.guardians(ofStudent: student) {
                    let guardianID = "\(id)G\(guardian)"
                    guardians.append(["externalId": guardianID, "name": "Родитель \(index)-\(student)-\(guardian)", "students": [id]])
                    roles[guardianID] = (.guardian, index)
                }
            }
        }
        return (["classes": classes, "staff": staff, "students": students, "guardians": guardians], roles)
    }

    private func activate(_ invites: [(code: String, person: LoadSetup.Person)]) async throws -> [LoadSetup.Person] {
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var people = invites.map(\.person)
            var next = 0
            func start() {
                guard next < invites.count else { return }
                let index = next
                let code = invites[index].code
                next += 1
                group.addTask {
                    let answer = try await api.send(.POST, "/v1/invites/\(code)/activate", json: [String: String]())
                    guard let token = answer["token"] as? String else { throw HTTPAPI.Failure(description: "activation answered no token") }
                    return (index, token)
                }
            }
            for _ in 0..<concurrency { start() }
            var done = 0
            while let (index, token) = try await group.next() {
                people[index].token = token
                done += 1
                if done % 2000 == 0 { log("setup: \(done)/\(invites.count) activated") }
                start()
            }
            return people
        }
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
