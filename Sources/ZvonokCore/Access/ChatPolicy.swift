/// Who may post where, and who may open a direct chat with whom (contract §4).
public enum ChatPolicy {
    /// Whether a member of a chat of this kind may post in it: everyone, except that only staff post in the school
    /// channel (announcements).
    public static func mayPost(role: Role, in kind: ChatKind) -> Bool {
        kind != .school || role.isStaff
    }

    /// Direct chats are allowed teacher↔guardian, teacher↔student and staff↔staff of one school; never
    /// guardian↔guardian or student↔student, and never across schools.
    public static func mayOpenDirect(_ first: Identity, _ second: Identity) -> Bool {
        guard first.personID != second.personID, let school = first.schoolID, school == second.schoolID else { return false }
        switch (first.role, second.role) {
        case (.teacher, .guardian), (.guardian, .teacher), (.teacher, .student), (.student, .teacher): return true
        case let (a, b) where a.isStaff && b.isStaff: return true
        default: return false
        }
    }

    /// Who may delete someone else's message in a chat: its teachers and admins (contract §5).
    public static func mayModerate(role: Role) -> Bool {
        role.isStaff || role == .municipalAdmin
    }

    /// Whether members of a chat of this kind in `role` see only its staff in the member list: students and
    /// guardians in school-wide and municipality chats (need to know; they still learn how many members there are).
    public static func seesOnlyStaff(role: Role, in kind: ChatKind) -> Bool {
        (role == .student || role == .guardian) && [.school, .schoolStaff, .municipality].contains(kind)
    }
}
