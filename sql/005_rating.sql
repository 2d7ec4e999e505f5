-- Weekly roll-ups for the rating (contract §6), kept by triggers in the same transaction as what they count.
--
-- The rating of a region reads a week of activity and the registrations of a million people. Summed at request
-- time that is seconds; kept per Moscow ISO week as things happen, it is a few tens of thousands of rows.
-- `week` is always the Monday of a Moscow ISO week (activity_daily.day is a Moscow day already).
--
-- Triggers are statement-level with transition tables, so a group commit of 500 messages costs one extra
-- statement per roll-up, not 500 (about 2 ms more per 200-row activity upsert here: docs/performance.md); rows are
-- upserted in key order, so concurrent writers lock them in the same order.

-- The Monday of the Moscow (UTC+3) ISO week holding the instant.
CREATE FUNCTION zvonok_moscow_week(at timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT date_trunc('week', (at AT TIME ZONE 'UTC') + interval '3 hours')::date
$$;

-- Per chat and week: counted messages, and those by students and guardians (a chat where they wrote is a dialogue).
-- The chat's place in the structure is copied here so that a region's chats are one index range.
CREATE TABLE rating_chat_weeks (
    week             date NOT NULL,
    region_code      text NOT NULL,
    chat_id          bigint NOT NULL,
    municipality_id  bigint,
    school_id        bigint,
    counted          integer NOT NULL,
    pupil_counted    integer NOT NULL,
    PRIMARY KEY (week, region_code, chat_id)
);

-- Per staff sender (teacher or school admin when they wrote), chat and week: counted messages. The rating checks
-- the person's role and registration moments when it reads these.
CREATE TABLE rating_staff_weeks (
    week         date NOT NULL,
    region_code  text NOT NULL,
    person_id    bigint NOT NULL,
    chat_id      bigint NOT NULL,
    counted      integer NOT NULL,
    PRIMARY KEY (week, region_code, person_id, chat_id)
);

-- Changes to the number of a school's people of a role listed and registered, by the week they happen in: the
-- sum over the weeks up to W is the number listed (or registered) by the end of W and not removed before it.
CREATE TABLE rating_people_weeks (
    region_code  text NOT NULL,
    school_id    bigint NOT NULL,
    role         text NOT NULL,
    week         date NOT NULL,
    listed       integer NOT NULL,
    registered   integer NOT NULL,
    PRIMARY KEY (region_code, school_id, role, week)
);

-- Teachers of a region with their moments, read by index only.
CREATE INDEX people_teachers_by_region ON people (region_code, id) INCLUDE (school_id, listed_at, registered_at, removed_at)
    WHERE role = 'teacher';
-- "At least one class by the end of W".
CREATE INDEX classes_by_school_created ON classes (school_id, created_at);

-- Adds activity rows (counted with a sign) to the weekly roll-ups. PL/pgSQL rather than SQL so that its plan is
-- kept for the session: the group commit calls it once per batch.
CREATE FUNCTION zvonok_roll_up_activity(p_day date[], p_chat bigint[], p_person bigint[], p_counted integer[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- Both upserts run to completion (PostgreSQL always runs data-modifying CTEs, read or not).
    WITH delta AS (
        SELECT date_trunc('week', u.day)::date AS week, u.chat_id, u.person_id, sum(u.counted)::integer AS counted
        FROM unnest(p_day, p_chat, p_person, p_counted) AS u (day, chat_id, person_id, counted)
        GROUP BY 1, 2, 3
        HAVING sum(u.counted) <> 0
    ),
    chat_rows AS (
        INSERT INTO rating_chat_weeks AS r (week, region_code, chat_id, municipality_id, school_id, counted, pupil_counted)
        SELECT d.week, coalesce(min(c.region_code), ''), d.chat_id, min(c.municipality_id), min(c.school_id), sum(d.counted),
               coalesce(sum(d.counted) FILTER (WHERE p.role IN ('student', 'guardian')), 0)
        FROM delta d JOIN chats c ON c.id = d.chat_id LEFT JOIN people p ON p.id = d.person_id
        GROUP BY d.week, d.chat_id
        ORDER BY 1, 2, 3
        ON CONFLICT (week, region_code, chat_id) DO UPDATE
            SET counted = r.counted + EXCLUDED.counted, pupil_counted = r.pupil_counted + EXCLUDED.pupil_counted
    )
    INSERT INTO rating_staff_weeks AS r (week, region_code, person_id, chat_id, counted)
    SELECT d.week, coalesce(c.region_code, ''), d.person_id, d.chat_id, d.counted
    FROM delta d JOIN chats c ON c.id = d.chat_id JOIN people p ON p.id = d.person_id AND p.role IN ('teacher', 'school_admin')
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (week, region_code, person_id, chat_id) DO UPDATE SET counted = r.counted + EXCLUDED.counted;
END
$$;

-- An upsert fires the INSERT trigger for the rows it inserted and the UPDATE trigger for those it updated; an
-- update counts as its new rows less its old ones.
CREATE FUNCTION zvonok_activity_rolled_up() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM zvonok_roll_up_activity(array_agg(day), array_agg(chat_id), array_agg(person_id), array_agg(counted)) FROM new_rows;
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM zvonok_roll_up_activity(array_agg(day), array_agg(chat_id), array_agg(person_id), array_agg(counted))
        FROM (SELECT day, chat_id, person_id, counted FROM new_rows
              UNION ALL SELECT day, chat_id, person_id, -counted FROM old_rows) AS changed;
    ELSE
        PERFORM zvonok_roll_up_activity(array_agg(day), array_agg(chat_id), array_agg(person_id), array_agg(-counted)) FROM old_rows;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER activity_daily_rolled_up_insert AFTER INSERT ON activity_daily
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zvonok_activity_rolled_up();
CREATE TRIGGER activity_daily_rolled_up_update AFTER UPDATE ON activity_daily
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zvonok_activity_rolled_up();
CREATE TRIGGER activity_daily_rolled_up_delete AFTER DELETE ON activity_daily
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION zvonok_activity_rolled_up();

-- Adds people (with a sign: +1 as they are now, -1 as they were) to the registration roll-up. A person counts as
-- listed from the week of listed_at and as registered from the week of registered_at (never before being listed),
-- until the week they are removed in.
CREATE FUNCTION zvonok_roll_up_people(p_sign integer, p_region text[], p_school bigint[], p_role text[],
                                      p_listed timestamptz[], p_registered timestamptz[], p_removed timestamptz[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rating_people_weeks AS r (region_code, school_id, role, week, listed, registered)
    SELECT u.region_code, u.school_id, u.role, x.week, p_sign * sum(x.listed), p_sign * sum(x.registered)
    FROM unnest(p_region, p_school, p_role, p_listed, p_registered, p_removed)
         AS u (region_code, school_id, role, listed_at, registered_at, removed_at)
    CROSS JOIN LATERAL (VALUES
        (zvonok_moscow_week(u.listed_at), 1, 0, true),
        (zvonok_moscow_week(greatest(u.listed_at, u.removed_at)), -1, 0, u.removed_at IS NOT NULL),
        (zvonok_moscow_week(greatest(u.listed_at, u.registered_at)), 0, 1, u.registered_at IS NOT NULL),
        (zvonok_moscow_week(greatest(u.listed_at, u.registered_at, u.removed_at)), 0, -1, u.registered_at IS NOT NULL AND u.removed_at IS NOT NULL)
    ) AS x (week, listed, registered, applies)
    WHERE u.school_id IS NOT NULL AND x.applies
    GROUP BY u.region_code, u.school_id, u.role, x.week
    HAVING sum(x.listed) <> 0 OR sum(x.registered) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (region_code, school_id, role, week) DO UPDATE
        SET listed = r.listed + EXCLUDED.listed, registered = r.registered + EXCLUDED.registered;
END
$$;

CREATE FUNCTION zvonok_people_rolled_up() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM zvonok_roll_up_people(-1, array_agg(region_code), array_agg(school_id), array_agg(role),
                                      array_agg(listed_at), array_agg(registered_at), array_agg(removed_at))
        FROM old_rows WHERE school_id IS NOT NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM zvonok_roll_up_people(1, array_agg(region_code), array_agg(school_id), array_agg(role),
                                      array_agg(listed_at), array_agg(registered_at), array_agg(removed_at))
        FROM new_rows WHERE school_id IS NOT NULL;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER people_rolled_up_insert AFTER INSERT ON people
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zvonok_people_rolled_up();
CREATE TRIGGER people_rolled_up_update AFTER UPDATE ON people
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zvonok_people_rolled_up();
CREATE TRIGGER people_rolled_up_delete AFTER DELETE ON people
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION zvonok_people_rolled_up();

-- What was there before this migration.
SELECT zvonok_roll_up_activity(array_agg(day), array_agg(chat_id), array_agg(person_id), array_agg(counted)) FROM activity_daily;

SELECT zvonok_roll_up_people(1, array_agg(region_code), array_agg(school_id), array_agg(role),
                             array_agg(listed_at), array_agg(registered_at), array_agg(removed_at))
FROM people WHERE school_id IS NOT NULL;
