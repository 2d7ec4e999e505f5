import Foundation
import Hummingbird
import ZvonokCore
import ZvonokStorage

/// What the HTTP API answers, field for field as in the contract and `docs/openapi.yaml`. Ids are the opaque
/// strings of `PublicID`; times are RFC 3339 in UTC (`Wire.timestamp`).
extension Wire {
    struct RegionBody: ResponseEncodable {
        let code: String
        let name: String

        init(_ region: Region) {
            code = region.code
            name = region.name
        }
    }

    struct MunicipalityBody: ResponseEncodable {
        let id: String
        let regionCode: String
        let name: String
        let externalId: String?

        init(_ municipality: Municipality) {
            id = PublicID.encode(.municipality, municipality.id)
            regionCode = municipality.regionCode
            name = municipality.name
            externalId = municipality.externalID
        }
    }

    struct SchoolBody: ResponseEncodable {
        let id: String
        let regionCode: String
        let municipalityId: String
        let name: String
        let externalId: String?
        /// Only once set (issue 20).
        let officialId: String?

        init(_ school: School) {
            id = PublicID.encode(.school, school.id)
            regionCode = school.regionCode
            municipalityId = PublicID.encode(.municipality, school.municipalityID)
            name = school.name
            externalId = school.externalID
            officialId = school.officialID
        }
    }

    struct ClassBody: ResponseEncodable {
        let id: String
        let schoolId: String
        let grade: Int
        let letter: String
        let year: String
        let externalId: String?

        init(_ schoolClass: SchoolClass) {
            id = PublicID.encode(.class, schoolClass.id)
            schoolId = PublicID.encode(.school, schoolClass.schoolID)
            grade = schoolClass.grade
            letter = schoolClass.letter
            year = schoolClass.year
            externalId = schoolClass.externalID
        }
    }

    /// A person; `inviteCode` only in the answer that created the invite, `homeroom` only in a class's teacher list.
    struct PersonBody: ResponseEncodable {
        let id: String
        let name: String
        let role: String
        let externalId: String?
        let registered: Bool
        let registeredAt: String?
        let regionCode: String?
        let municipalityId: String?
        let schoolId: String?
        let classId: String?
        var inviteCode: String?
        var homeroom: Bool?

        init(_ person: Person, inviteCode: String? = nil, homeroom: Bool? = nil) {
            id = PublicID.encode(.person, person.id)
            name = person.name
            role = person.role.rawValue
            externalId = person.externalID
            registered = person.registeredAt != nil
            registeredAt = person.registeredAt.map(Wire.timestamp)
            regionCode = person.regionCode
            municipalityId = person.municipalityID.map { PublicID.encode(.municipality, $0) }
            schoolId = person.schoolID.map { PublicID.encode(.school, $0) }
            classId = person.classID.map { PublicID.encode(.class, $0) }
            self.inviteCode = inviteCode
            self.homeroom = homeroom
        }
    }

    /// A chat member as the other members see them: `{id, name, role}`.
    struct MemberBody: ResponseEncodable {
        let id: String
        let name: String
        let role: String

        init(_ person: Person) {
            id = PublicID.encode(.person, person.id)
            name = person.name
            role = person.role.rawValue
        }
    }

    struct ChatBody: ResponseEncodable {
        let id: String
        let kind: String
        let title: String
        let lastSeq: Int64
        let readSeq: Int64

        init(_ chat: ChatSummary) {
            id = PublicID.encode(.chat, chat.id)
            kind = chat.kind.rawValue
            title = chat.title
            lastSeq = chat.lastSeq
            readSeq = chat.readSeq
        }
    }

    /// A message in history: `{chat, seq, id, from, text, files?, ts, editedAt?, deleted?}`.
    struct MessageBody: ResponseEncodable {
        let chat: String
        let seq: Int64
        let id: String
        let from: String
        let text: String
        let files: [FileBody]?
        let ts: String
        let editedAt: String?
        let deleted: Bool?

        init(_ message: ChatMessage) {
            chat = PublicID.encode(.chat, message.chatID)
            seq = message.seq
            id = Wire.messageID(chat: message.chatID, seq: message.seq)
            from = PublicID.encode(.person, message.senderID)
            text = message.text
            files = message.files.isEmpty ? nil : message.files.map(FileBody.init)
            ts = Wire.timestamp(milliseconds: message.sentAtMilliseconds)
            editedAt = message.editedAtMilliseconds.map { Wire.timestamp(milliseconds: $0) }
            deleted = message.isDeleted ? true : nil
        }
    }

    /// A file a message carries: `{id, name, size, type, width?, height?, preview}`, as in `msg` frames; an upload's
    /// answer adds its `sha256`.
    struct FileBody: ResponseEncodable {
        let id: String
        let name: String
        let size: Int64
        let type: String
        let width: Int?
        let height: Int?
        let preview: Bool
        var sha256: String? = nil

        init(_ file: AttachedFile) {
            id = PublicID.encode(.file, file.id)
            name = file.name
            size = file.size
            type = file.type.rawValue
            width = file.width
            height = file.height
            preview = file.preview
        }
    }

    /// A message's earlier text: `{id, chat, seq, messageId, change, text, by, at}`.
    struct RevisionBody: ResponseEncodable {
        let id: String
        let chat: String
        let seq: Int64
        let messageId: String
        let change: String
        let text: String
        let by: String
        let at: String

        init(_ revision: ModerationStore.Revision) {
            id = String(revision.id)
            chat = PublicID.encode(.chat, revision.chatID)
            seq = revision.seq
            messageId = Wire.messageID(chat: revision.chatID, seq: revision.seq)
            change = revision.change.rawValue
            text = revision.text
            by = PublicID.encode(.person, revision.byID)
            at = Wire.timestamp(revision.at)
        }
    }

    /// A report of a message. The admins who review it also get the message's author, text and whether it was
    /// deleted; the reporter does not (a deleted message's text is no longer theirs to read).
    struct ReportBody: ResponseEncodable {
        let id: String
        let chat: String
        let seq: Int64
        let messageId: String
        let reporter: String
        let reason: String
        let status: String
        let createdAt: String
        let closedAt: String?
        let closedBy: String?
        let from: String?
        let text: String?
        let deleted: Bool?

        init(_ report: ModerationStore.Report, showingText: Bool) {
            id = PublicID.encode(.report, report.id)
            chat = PublicID.encode(.chat, report.chatID)
            seq = report.seq
            messageId = Wire.messageID(chat: report.chatID, seq: report.seq)
            reporter = PublicID.encode(.person, report.reporterID)
            reason = report.reason
            status = report.closedAt == nil ? "open" : "closed"
            createdAt = Wire.timestamp(report.createdAt)
            closedAt = report.closedAt.map(Wire.timestamp)
            closedBy = report.closedByID.map { PublicID.encode(.person, $0) }
            from = showingText ? PublicID.encode(.person, report.senderID) : nil
            text = showingText ? report.text : nil
            deleted = showingText ? report.deleted : nil
        }
    }

    struct AssignmentBody: ResponseEncodable {
        let classId: String
        let staffId: String
        let homeroom: Bool
    }

    struct ActivationBody: ResponseEncodable {
        let userId: String
        let token: String
        /// When the token stops working unless used (RFC 3339): each use slides it (`--token-days`).
        let expiresAt: String

        init(userId: String, token: String, expiresAt: Date) {
            self.userId = userId
            self.token = token
            self.expiresAt = Wire.timestamp(expiresAt)
        }
    }

    struct InviteBody: ResponseEncodable {
        let id: String
        let inviteCode: String
    }

    /// An entry of the audit log; the actor's fields are missing for changes made from the command line.
    struct AuditEntryBody: ResponseEncodable {
        let id: String
        let at: String
        let actor: String?
        let actorName: String?
        let actorRole: String?
        let action: String
        let object: String
        let details: [String: AuditEntry.Value]
        let regionCode: String?
        let municipalityId: String?
        let schoolId: String?

        init(_ entry: AuditEntry) {
            id = String(entry.id)
            at = Wire.timestamp(entry.at)
            actor = entry.actor.map { PublicID.encode(.person, $0.id) }
            actorName = entry.actor?.name
            actorRole = entry.actor?.role
            action = entry.action
            object = entry.object
            details = entry.details
            regionCode = entry.regionCode
            municipalityId = entry.municipalityID.map { PublicID.encode(.municipality, $0) }
            schoolId = entry.schoolID.map { PublicID.encode(.school, $0) }
        }
    }
}
