import Foundation

/// The people a run connects as, with their tokens: made once through the public API and saved, so that later runs
/// against the same server (`--setup FILE`) skip the minutes of roster uploads and activations.
public struct LoadSetup: Codable, Sendable {
    public enum Role: String, Codable, Sendable {
        case teacher
        case student
        case guardian
    }

    public struct Person: Codable, Sendable {
        public var token: String
        public var role: Role
        public var school: Int
        public var schoolClass: Int
    }

    /// The shape it was made for; a saved setup is reused only for the same shape.
    public var shape: SchoolShape
    public var server: String
    public var people: [Person]

    public func save(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }

    public static func load(from path: String) throws -> LoadSetup {
        try JSONDecoder().decode(LoadSetup.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

/// A synthetic structure: schools of classes, each class with its students, teachers and the students' guardians.
/// Every person teaches or learns in exactly one class, so a class chat has `studentsPerClass + teachersPerClass`
/// members, its parents' chat `teachersPerClass` plus the guardians, and a school channel everyone of the school.
public struct SchoolShape: Codable, Sendable, Equatable, CustomStringConvertible {
    public var schools: Int
    public var classesPerSchool: Int
    public var studentsPerClass: Int
    public var teachersPerClass: Int
    /// Guardians per student on average (e.g. 1.7: seven students in ten have two).
    public var guardiansPerStudent: Double

    public init(schools: Int, classesPerSchool: Int, studentsPerClass: Int, teachersPerClass: Int, guardiansPerStudent: Double) {
        self.schools = schools
        self.classesPerSchool = classesPerSchool
        self.studentsPerClass = studentsPerClass
        self.teachersPerClass = teachersPerClass
        self.guardiansPerStudent = guardiansPerStudent
    }

    /// `classes` class chats of `members` people each (one teacher, the rest students, no guardians), at most
    /// `classesPerSchool` to a school.
    public static func classChats(_ classes: Int, members: Int, classesPerSchool: Int = 40) -> SchoolShape {
        let perSchool = max(1, min(classesPerSchool, classes))
        return SchoolShape(
            schools: (classes + perSchool - 1) / perSchool, classesPerSchool: perSchool,
            studentsPerClass: max(1, members - 1), teachersPerClass: 1, guardiansPerStudent: 0
        )
    }

    /// Guardians of student `index` of a class.
    func guardians(ofStudent index: Int) -> Int {
        let whole = Int(guardiansPerStudent)
        let fraction = guardiansPerStudent - Double(whole)
        return whole + (Double(index % 10) < fraction * 10 - 0.001 ? 1 : 0)
    }

    public var peoplePerSchool: Int {
        let guardiansPerClass = (0..<studentsPerClass).reduce(0) { $0 + guardians(ofStudent: $1) }
        return classesPerSchool * (studentsPerClass + teachersPerClass + guardiansPerClass)
    }

    public var people: Int { schools * peoplePerSchool }

    public var description: String {
        "\(schools) school(s) × \(classesPerSchool) classes × (\(studentsPerClass) students + \(teachersPerClass) teachers, "
            + "\(guardiansPerStudent) guardians per student) = \(people) people"
    }
}
