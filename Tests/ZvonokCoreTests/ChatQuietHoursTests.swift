import Foundation
import Testing
import ZvonokCore

/// The `ack`'s `quietUntil` from a chat's groups by school and role (issue 18): a sender is never their own
/// recipient, so a group they alone make up does not count for their message.
@Suite struct ChatQuietHoursTests {
    static let morning = Date(timeIntervalSince1970: 1_796_432_400)
    static let laterMorning = morning.addingTimeInterval(3600)

    /// Class 5А at night: 25 pupils quiet until 07:00 Omsk, one teacher not quiet, one guardian (person 7) quiet
    /// until an hour later (another school's rules).
    let chat = ChatQuietHours(groups: [
        .init(until: morning, members: 25, someMember: 1),
        .init(until: nil, members: 1, someMember: 5),
        .init(until: laterMorning, members: 1, someMember: 7),
    ])

    @Test func theLatestEndAmongTheRecipientsIsTheAnswer() {
        #expect(chat.quietUntil(excluding: 5) == Self.laterMorning)
        #expect(chat.quietUntil(excluding: 1) == Self.laterMorning, "one pupil sending leaves 24 held")
    }

    @Test func aSenderAloneInTheirGroupDoesNotCountForTheirOwnMessage() {
        #expect(chat.quietUntil(excluding: 7) == Self.morning)
        let alone = ChatQuietHours(groups: [.init(until: Self.morning, members: 1, someMember: 7), .init(until: nil, members: 3, someMember: 2)])
        #expect(alone.quietUntil(excluding: 7) == nil)
        #expect(ChatQuietHours(groups: []).quietUntil(excluding: 7) == nil)
    }

    @Test func theAnswerMayChangeWhenTheFirstQuietHoursEnd() {
        #expect(chat.firstChange == Self.morning)
        #expect(ChatQuietHours(groups: [.init(until: nil, members: 30, someMember: 1)]).firstChange == nil)
    }
}
