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

    /// Whether `caller` may delete a message whose author holds `authorRole` (issue 15): the author always; someone
    /// else's message only staff of that chat — a teacher of the class in its class and parents' chats, or an admin
    /// over the chat's place (a school admin of its school; a municipal or regional admin above it, which makes
    /// municipality chats theirs) — and an admin's message only such an admin. In direct chats only the author.
    public static func mayDelete(authoredBy author: Int64, role authorRole: Role, in chat: ModeratedChat, by caller: Identity) -> Bool {
        if author == caller.personID { return true }
        guard chat.kind != .direct else { return false }
        if caller.administers(chat.placement) { return true }
        return chat.callerTeachesClass && !authorRole.isAdmin
    }

    /// Whether `caller` may read what edits replaced and moderators deleted in `chat`, and the reports about it: the
    /// admins over the chat's place.
    public static func mayReview(_ chat: ModeratedChat, by caller: Identity) -> Bool {
        caller.administers(chat.placement)
    }

    /// Whether members of a chat of this kind in `role` see only its staff in the member list: students and
    /// guardians in school-wide and municipality chats (need to know; they still learn how many members there are).
    public static func seesOnlyStaff(role: Role, in kind: ChatKind) -> Bool {
        (role == .student || role == .guardian) && [.school, .schoolStaff, .municipality].contains(kind)
    }
}

/// A chat as moderation decisions need it: its kind, where it sits, and whether the person deciding teaches its class.
public struct ModeratedChat: Sendable, Equatable {
    public let kind: ChatKind
    public let placement: Placement
    /// The person deciding teaches the chat's class (only class and parents' chats have one).
    public let callerTeachesClass: Bool

    public init(kind: ChatKind, placement: Placement, callerTeachesClass: Bool) {
        self.kind = kind
        self.placement = placement
        self.callerTeachesClass = callerTeachesClass
    }
}
