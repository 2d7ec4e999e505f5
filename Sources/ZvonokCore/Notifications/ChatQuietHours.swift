public import Foundation

/// Which of a chat's members quiet hours hold now, by school and role (issue 18): enough to answer any sender's `ack`
/// (`quietUntil`) from one look-up per chat, a sender being the one member who is not their own recipient.
public struct ChatQuietHours: Sendable, Equatable {
    /// The members of one school and role: until when quiet hours hold them (nil: they do not now), how many they are,
    /// and one of them (the only one when there is one).
    public struct Group: Sendable, Equatable {
        public let until: Date?
        public let members: Int
        public let someMember: Int64

        public init(until: Date?, members: Int, someMember: Int64) {
            self.until = until
            self.members = members
            self.someMember = someMember
        }
    }

    public let groups: [Group]

    public init(groups: [Group]) {
        self.groups = groups
    }

    /// When the last of `sender`'s recipients whom quiet hours hold gets their notification; nil when none is held.
    public func quietUntil(excluding sender: Int64) -> Date? {
        groups.lazy.filter { !($0.members == 1 && $0.someMember == sender) }.compactMap(\.until).max()
    }

    /// The first moment this answer may change by itself: the earliest end of quiet hours among the groups.
    public var firstChange: Date? {
        groups.compactMap(\.until).min()
    }
}
