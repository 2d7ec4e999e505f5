import Hummingbird
import ZvonokCore

extension Wire {
    /// The plan of one school's rollover, the same for a dry run and for the rollover it applies (`dryRun` tells which).
    struct RolloverBody: ResponseEncodable, Equatable {
        struct Promotion: Encodable, Equatable { let id: String; let from: String; let to: String }
        struct Graduation: Encodable, Equatable { let id: String; let name: String }
        struct Leaver: Encodable, Equatable { let id: String; let name: String; let role: String }
        struct ArchivedChat: Encodable, Equatable { let id: String; let title: String }
        struct Assignment: Encodable, Equatable { let classId: String; let staffId: String }

        let schoolId: String
        let from: String
        let to: String
        let dryRun: Bool
        let classes: [Promotion]
        let graduated: [Graduation]
        let leaving: [Leaver]
        let archivedChats: [ArchivedChat]
        let clearedAssignments: [Assignment]

        init(_ plan: RolloverPlan, dryRun: Bool) {
            schoolId = PublicID.encode(.school, plan.schoolID)
            from = plan.from
            to = plan.to
            self.dryRun = dryRun
            classes = plan.promoted.map { Promotion(id: PublicID.encode(.class, $0.classID), from: $0.from, to: $0.to) }
            graduated = plan.graduated.map { Graduation(id: PublicID.encode(.class, $0.id), name: $0.name) }
            leaving = plan.leaving.map { Leaver(id: PublicID.encode(.person, $0.personID), name: $0.name, role: $0.role.rawValue) }
            archivedChats = plan.archivedChats.map { ArchivedChat(id: PublicID.encode(.chat, $0.id), title: $0.name) }
            clearedAssignments = plan.clearedAssignments.map {
                Assignment(classId: PublicID.encode(.class, $0.classID), staffId: PublicID.encode(.person, $0.staffID))
            }
        }
    }

    /// The rollover of a municipality or region: each of its schools' plans, in id order.
    struct AreaRolloverBody: ResponseEncodable {
        let from: String
        let to: String
        let dryRun: Bool
        let schools: [RolloverBody]
    }
}
