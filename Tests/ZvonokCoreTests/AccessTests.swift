import Foundation
import Testing

@testable import ZvonokCore

@Suite struct AccessTests {
    func person(_ id: Int64, _ role: Role, region: String? = "55", municipality: Int64? = 1, school: Int64? = 10) -> Identity {
        Identity(personID: id, role: role, name: "\(id)", regionCode: region, municipalityID: municipality, schoolID: school, classID: nil)
    }

    @Test func adminRightsReachTheirSubtreeOnly() {
        let school = Placement(regionCode: "55", municipalityID: 1, schoolID: 10)
        let otherSchool = Placement(regionCode: "55", municipalityID: 2, schoolID: 20)
        #expect(person(1, .regionalAdmin, municipality: nil, school: nil).administers(otherSchool))
        #expect(person(2, .municipalAdmin, school: nil).administers(school))
        #expect(!person(2, .municipalAdmin, school: nil).administers(otherSchool))
        #expect(person(3, .schoolAdmin).administers(school))
        #expect(!person(3, .schoolAdmin).administers(otherSchool))
        #expect(!person(4, .teacher).administers(school))
        #expect(!person(5, .ministry, region: nil, municipality: nil, school: nil).administers(school))
        #expect(person(5, .ministry, region: nil, municipality: nil, school: nil).oversees(otherSchool))
        #expect(!person(1, .regionalAdmin, region: "56", municipality: nil, school: nil).oversees(school))
    }

    @Test func postingAndDirectChatsFollowTheContract() {
        #expect(ChatPolicy.mayPost(role: .teacher, in: .school))
        #expect(!ChatPolicy.mayPost(role: .student, in: .school))
        #expect(!ChatPolicy.mayPost(role: .guardian, in: .school))
        #expect(ChatPolicy.mayPost(role: .guardian, in: .classParents))
        #expect(ChatPolicy.mayPost(role: .student, in: .class))

        let teacher = person(1, .teacher), guardian = person(2, .guardian), student = person(3, .student)
        #expect(ChatPolicy.mayOpenDirect(teacher, guardian))
        #expect(ChatPolicy.mayOpenDirect(student, teacher))
        #expect(ChatPolicy.mayOpenDirect(person(4, .schoolAdmin), teacher))
        #expect(!ChatPolicy.mayOpenDirect(guardian, person(5, .guardian)))
        #expect(!ChatPolicy.mayOpenDirect(student, person(6, .student)))
        #expect(!ChatPolicy.mayOpenDirect(guardian, student))
        #expect(!ChatPolicy.mayOpenDirect(teacher, person(7, .guardian, school: 99)))
        #expect(!ChatPolicy.mayOpenDirect(teacher, teacher))
    }

    @Test func deletingAnothersMessageNeedsStaffOfThatChatAndAnAdminsNeedsAnAdmin() {
        let school = Placement(regionCode: "55", municipalityID: 1, schoolID: 10)
        let classChat = ModeratedChat(kind: .class, placement: school, callerTeachesClass: true)
        let notTheirClass = ModeratedChat(kind: .class, placement: school, callerTeachesClass: false)
        let channel = ModeratedChat(kind: .school, placement: school, callerTeachesClass: false)
        let municipality = ModeratedChat(kind: .municipality, placement: Placement(regionCode: "55", municipalityID: 1), callerTeachesClass: false)
        let teacher = person(1, .teacher), admin = person(2, .schoolAdmin), municipal = person(3, .municipalAdmin, school: nil)
        #expect(ChatPolicy.mayDelete(authoredBy: 9, role: .student, in: classChat, by: teacher))
        #expect(!ChatPolicy.mayDelete(authoredBy: 9, role: .student, in: notTheirClass, by: teacher))
        #expect(!ChatPolicy.mayDelete(authoredBy: 2, role: .schoolAdmin, in: classChat, by: teacher))
        #expect(!ChatPolicy.mayDelete(authoredBy: 2, role: .schoolAdmin, in: channel, by: teacher))
        #expect(ChatPolicy.mayDelete(authoredBy: 1, role: .teacher, in: channel, by: admin))
        #expect(ChatPolicy.mayDelete(authoredBy: 1, role: .teacher, in: channel, by: teacher))
        #expect(!ChatPolicy.mayDelete(authoredBy: 3, role: .municipalAdmin, in: municipality, by: admin))
        #expect(ChatPolicy.mayDelete(authoredBy: 2, role: .schoolAdmin, in: municipality, by: municipal))
        #expect(
            !ChatPolicy.mayDelete(
                authoredBy: 1, role: .teacher, in: ModeratedChat(kind: .direct, placement: school, callerTeachesClass: false), by: admin))
        #expect(
            ChatPolicy.mayReview(channel, by: admin) && ChatPolicy.mayReview(channel, by: municipal) && !ChatPolicy.mayReview(channel, by: teacher))
        #expect(ChatPolicy.seesOnlyStaff(role: .guardian, in: .school) && !ChatPolicy.seesOnlyStaff(role: .guardian, in: .classParents))
        #expect(!ChatPolicy.seesOnlyStaff(role: .teacher, in: .school))
    }

    @Test func inviteCodesNormalizeWhatPeopleType() {
        let code = InviteCode.generate()
        #expect(code.count == 24)
        #expect(InviteCode.normalize(code) == code)
        #expect(InviteCode.normalize(code.lowercased().replacingOccurrences(of: "-", with: " ")) == code)
        #expect(InviteCode.normalize("O1IL-0000-0000-0000-0000") == "0111-0000-0000-0000-0000")
        #expect(InviteCode.normalize("UUUU-0000-0000-0000-0000") == nil)
        #expect(InviteCode.normalize("0000") == nil)
    }

    @Test func validationCleansAndRefuses() throws {
        #expect(try Validation.name("  Школа №1 ") == "Школа №1")
        #expect(throws: ZvonokError.self) { try Validation.name("a\u{202E}b") }
        for refused in ["   ", "a\nb", "a\u{85}b", "a\u{2028}b", "a\u{2067}b", String(repeating: "я", count: 198) + "   "] {
            #expect(throws: ZvonokError.self, "\(refused.unicodeScalars.map(\.value))") { try Validation.name(refused) }
        }
        // Emoji joined with U+200D, private-use and not-yet-assigned code points are names' business, not ours.
        for accepted in ["Семья 👨‍👩‍👧", "a\u{E000}b", "a\u{0378}b", String(repeating: "я", count: 200)] {
            #expect(try Validation.name(accepted) == accepted)
        }
        #expect(try Validation.schoolYear("2026/2027") == "2026/2027")
        #expect(throws: ZvonokError.self) { try Validation.schoolYear("2026-2027") }
        #expect(PublicID.decode(.school, "s12") == 12)
        #expect(PublicID.decode(.school, "k12") == nil)
        #expect(PublicID.decode(.school, "s-1") == nil)
        #expect(PublicID.decode(.school, "s99999999999999999999") == nil)
        #expect(Cursor.decode(Cursor.encode("12345")) == "12345")
        for refused in ["%%", "", "12a", "-1", "1234567890123456789", "١٢"] { #expect(Cursor.decode(refused) == nil, "\(refused)") }
    }
}
