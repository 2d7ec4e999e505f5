-- Chat membership follows the structure (contract §4). Rather than patching memberships change by change, these
-- functions compute who should be in a school's (or municipality's) chats from the structure itself and apply the
-- difference, returning it so that open connections can follow. One source of truth, and a school of 2,000 people
-- is recomputed in milliseconds.

CREATE FUNCTION zvonok_desired_school_members(p_school bigint) RETURNS TABLE (chat_id bigint, person_id bigint)
LANGUAGE sql STABLE AS $$
    -- class and class_parents: the class's teachers
    SELECT c.id, ct.person_id
    FROM chats c
    JOIN class_teachers ct ON ct.class_id = c.class_id
    JOIN people p ON p.id = ct.person_id AND p.removed_at IS NULL
    WHERE c.school_id = p_school AND c.kind IN ('class', 'class_parents')
    UNION
    -- class: its students
    SELECT c.id, s.id
    FROM chats c
    JOIN people s ON s.class_id = c.class_id AND s.removed_at IS NULL
    WHERE c.school_id = p_school AND c.kind = 'class'
    UNION
    -- class_parents: its students' guardians
    SELECT c.id, g.guardian_id
    FROM chats c
    JOIN people s ON s.class_id = c.class_id AND s.removed_at IS NULL
    JOIN guardianships g ON g.student_id = s.id
    JOIN people gp ON gp.id = g.guardian_id AND gp.removed_at IS NULL
    WHERE c.school_id = p_school AND c.kind = 'class_parents'
    UNION
    -- school_staff and school: the staff
    SELECT c.id, p.id
    FROM chats c
    JOIN people p ON p.school_id = c.school_id AND p.role IN ('school_admin', 'teacher') AND p.removed_at IS NULL
    WHERE c.school_id = p_school AND c.class_id IS NULL AND c.kind IN ('school_staff', 'school')
    UNION
    -- school: students
    SELECT c.id, p.id
    FROM chats c
    JOIN people p ON p.school_id = c.school_id AND p.role = 'student' AND p.removed_at IS NULL
    WHERE c.school_id = p_school AND c.class_id IS NULL AND c.kind = 'school'
    UNION
    -- school: guardians of its students
    SELECT c.id, g.guardian_id
    FROM chats c
    JOIN people s ON s.school_id = c.school_id AND s.role = 'student' AND s.removed_at IS NULL
    JOIN guardianships g ON g.student_id = s.id
    JOIN people gp ON gp.id = g.guardian_id AND gp.removed_at IS NULL
    WHERE c.school_id = p_school AND c.class_id IS NULL AND c.kind = 'school'
$$;

CREATE FUNCTION zvonok_desired_municipality_members(p_municipality bigint) RETURNS TABLE (chat_id bigint, person_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT c.id, p.id
    FROM chats c
    JOIN people p ON p.municipality_id = c.municipality_id AND p.removed_at IS NULL
        AND (p.role = 'municipal_admin' OR p.role = 'school_admin')
    WHERE c.municipality_id = p_municipality AND c.kind = 'municipality'
$$;

-- Applies the desired membership of the given chats; returns who joined (true) and who left (false).
CREATE FUNCTION zvonok_apply_members(p_chats bigint[], p_desired_chat bigint[], p_desired_person bigint[])
RETURNS TABLE (chat_id bigint, person_id bigint, joined boolean)
LANGUAGE sql AS $$
    WITH desired AS (
        SELECT * FROM unnest(p_desired_chat, p_desired_person) AS d (chat_id, person_id)
    ),
    current AS (
        SELECT m.chat_id, m.person_id FROM chat_members m WHERE m.chat_id = ANY (p_chats)
    ),
    added AS (
        INSERT INTO chat_members (chat_id, person_id)
        SELECT chat_id, person_id FROM (SELECT * FROM desired EXCEPT SELECT * FROM current) missing
        ON CONFLICT DO NOTHING
        RETURNING chat_members.chat_id, chat_members.person_id
    ),
    removed AS (
        DELETE FROM chat_members m
        USING (SELECT * FROM current EXCEPT SELECT * FROM desired) extra
        WHERE m.chat_id = extra.chat_id AND m.person_id = extra.person_id
        RETURNING m.chat_id, m.person_id
    )
    SELECT chat_id, person_id, true FROM added
    UNION ALL
    SELECT chat_id, person_id, false FROM removed
$$;

CREATE FUNCTION zvonok_sync_school_members(p_school bigint) RETURNS TABLE (chat_id bigint, person_id bigint, joined boolean)
LANGUAGE sql AS $$
    SELECT changed.*
    FROM (SELECT array_agg(d.chat_id) AS chats, array_agg(d.person_id) AS people
          FROM zvonok_desired_school_members(p_school) d) desired,
    LATERAL zvonok_apply_members(
        ARRAY(SELECT id FROM chats WHERE school_id = p_school AND kind <> 'direct'),
        coalesce(desired.chats, '{}'), coalesce(desired.people, '{}')) changed
$$;

CREATE FUNCTION zvonok_sync_municipality_members(p_municipality bigint) RETURNS TABLE (chat_id bigint, person_id bigint, joined boolean)
LANGUAGE sql AS $$
    SELECT changed.*
    FROM (SELECT array_agg(d.chat_id) AS chats, array_agg(d.person_id) AS people
          FROM zvonok_desired_municipality_members(p_municipality) d) desired,
    LATERAL zvonok_apply_members(
        ARRAY(SELECT id FROM chats WHERE municipality_id = p_municipality AND kind = 'municipality'),
        coalesce(desired.chats, '{}'), coalesce(desired.people, '{}')) changed
$$;

-- The title of a class's chat, kept in one place for single creates, roster uploads and renames.
CREATE FUNCTION zvonok_class_chat_title(p_kind text, p_grade smallint, p_letter text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_grade || p_letter || CASE p_kind WHEN 'class' THEN ' класс' ELSE ' — родители' END
$$;
