import PostgresNIO
public import ZvonokCore

/// Everything Zvonok holds about one person, as one JSON document (issue 20, `GET /v1/me/export`): the profile, the
/// people they are linked to, classes they teach, their chats with read marks, every message they sent with its
/// chat's name and times, the files they uploaded, the chats they muted, the browsers and phones notifications reach
/// (the push service's host and the platform; never the endpoint's or token's secret part), their sessions and
/// sign-in links, and the audit entries they made or that are about them. Built in one query, from one snapshot.
public struct ExportStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The document, as JSON text.
    public func export(_ person: Person) async throws -> String {
        let rows = try await database.query(Self.query(person.id, object: PublicID.encode(.person, person.id)))
        return try await rows.decode(String.self).first { _ in true } ?? "{}"
    }

    static func query(_ id: Int64, object: String) -> PostgresQuery {
        """
        SELECT jsonb_build_object(
            'exportedAt', zvonok_rfc3339(now()),
            'profile', (SELECT jsonb_strip_nulls(jsonb_build_object(
                    'id', 'p' || p.id, 'role', p.role, 'name', p.name, 'externalId', p.external_id, 'email', p.email,
                    'regionCode', p.region_code, 'municipalityId', 'm' || p.municipality_id, 'schoolId', 's' || p.school_id,
                    'classId', 'k' || p.class_id, 'listedAt', zvonok_rfc3339(p.listed_at),
                    'registeredAt', zvonok_rfc3339(p.registered_at), 'removedAt', zvonok_rfc3339(p.removed_at)))
                FROM people p WHERE p.id = \(id)),
            'children', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', 'p' || s.id, 'name', s.name) ORDER BY s.id), '[]')
                FROM guardianships g JOIN people s ON s.id = g.student_id WHERE g.guardian_id = \(id)),
            'guardians', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', 'p' || p.id, 'name', p.name) ORDER BY p.id), '[]')
                FROM guardianships g JOIN people p ON p.id = g.guardian_id WHERE g.student_id = \(id)),
            'classesTaught', (SELECT coalesce(jsonb_agg(jsonb_build_object('classId', 'k' || ct.class_id, 'homeroom', ct.homeroom)
                    ORDER BY ct.class_id), '[]')
                FROM class_teachers ct WHERE ct.person_id = \(id)),
            'chats', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', 'c' || c.id, 'kind', c.kind, 'title', c.title,
                    'joinedAt', zvonok_rfc3339(m.joined_at), 'readSeq', m.read_seq) ORDER BY c.id), '[]')
                FROM chat_members m JOIN chats c ON c.id = m.chat_id WHERE m.person_id = \(id)),
            'messages', (SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object('chat', 'c' || m.chat_id, 'chatTitle', c.title,
                    'seq', m.seq, 'text', m.text, 'ts', zvonok_rfc3339(m.sent_at), 'editedAt', zvonok_rfc3339(m.edited_at),
                    'deletedAt', zvonok_rfc3339(m.deleted_at))) ORDER BY m.sent_at, m.chat_id, m.seq), '[]')
                FROM messages m JOIN chats c ON c.id = m.chat_id WHERE m.sender_id = \(id)),
            'sessions', (SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object('createdAt', zvonok_rfc3339(t.created_at),
                    'expiresAt', zvonok_rfc3339(t.expires_at), 'revokedAt', zvonok_rfc3339(t.revoked_at))) ORDER BY t.id), '[]')
                FROM tokens t WHERE t.person_id = \(id)),
            'linkedIdentities', (SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object('issuer', l.issuer, 'subject', l.subject,
                    'linkedAt', zvonok_rfc3339(l.linked_at), 'unlinkedAt', zvonok_rfc3339(l.unlinked_at))) ORDER BY l.id), '[]')
                FROM linked_identities l WHERE l.person_id = \(id)),
            'files', (SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object('id', 'f' || f.id, 'name', f.name, 'size', f.size,
                    'type', f.type, 'chat', 'c' || f.chat_id, 'chatTitle', c.title, 'uploadedAt', zvonok_rfc3339(f.uploaded_at),
                    'seq', f.posted_seq)) ORDER BY f.id), '[]')
                FROM files f JOIN chats c ON c.id = f.chat_id WHERE f.uploader_id = \(id)),
            'mutedChats', (SELECT coalesce(jsonb_agg(jsonb_build_object('chat', 'c' || x.chat_id,
                    'until', CASE WHEN x.until = 'infinity' THEN NULL ELSE zvonok_rfc3339(x.until) END) ORDER BY x.chat_id), '[]')
                FROM chat_mutes x WHERE x.person_id = \(id)),
            'pushSubscriptions', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', 'w' || s.id,
                    'service', substring(s.endpoint FROM '^[a-z]+://([^/:]+)'), 'createdAt', zvonok_rfc3339(s.created_at)) ORDER BY s.id), '[]')
                FROM push_subscriptions s WHERE s.person_id = \(id)),
            'devices', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', 'd' || d.id, 'platform', d.platform,
                    'createdAt', zvonok_rfc3339(d.created_at)) ORDER BY d.id), '[]')
                FROM push_devices d WHERE d.person_id = \(id)),
            'audit', (SELECT coalesce(jsonb_agg(jsonb_build_object('at', zvonok_rfc3339(a.at), 'action', a.action, 'object', a.object,
                    'byThisPerson', a.actor_id IS NOT DISTINCT FROM \(id), 'details', a.details) ORDER BY a.id), '[]')
                FROM audit_log a WHERE a.object = \(object) OR a.actor_id = \(id))
        )::text
        """
    }
}
