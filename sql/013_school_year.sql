-- The school year and personal data (issue 20): the rollover of a school's classes, archived chats readable for a
-- while, erasure of people who left, and the official registry of schools the rating divides by.

-- An archived chat (sql/008) keeps its members until this moment, then the retention job lets them go. A graduated
-- class's chats get it from the rollover (`--graduate-archive-days`); chats archived otherwise keep theirs for good.
ALTER TABLE chats ADD COLUMN readable_until timestamptz;

-- When a removed (or graduated) person's name, external id and e-mail were erased: after the grace period of
-- `--erasure-grace-days`, or at once on `DELETE /v1/people/{id}?erase=now`. The row stays, role and moments with it,
-- so the weekly rating of past weeks reads the same (docs/rating.md).
ALTER TABLE people ADD COLUMN erased_at timestamptz;
CREATE INDEX people_awaiting_erasure ON people (removed_at) WHERE removed_at IS NOT NULL AND erased_at IS NULL;

-- Whether an erased person's messages go with them (their text purged) rather than staying for the others' history
-- under the placeholder name. The school decides; false by default.
ALTER TABLE schools ADD COLUMN erase_messages boolean NOT NULL DEFAULT false;

-- A school's number in the official registry of general-education organisations (set by its municipality's
-- admins), matched against the registry the ministry uploads for the region.
ALTER TABLE schools ADD COLUMN official_id text;
CREATE UNIQUE INDEX schools_official_in_region ON schools (region_code, official_id) WHERE official_id IS NOT NULL AND removed_at IS NULL;

-- Each upload of a region's official registry is kept whole: the rating of week W divides by the registry in force
-- at the end of W (the newest upload before it), so a later upload never changes a finished week.
CREATE TABLE registry_uploads (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_code  text NOT NULL REFERENCES regions (code),
    uploaded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX registry_uploads_by_region ON registry_uploads (region_code, uploaded_at);

CREATE TABLE registry_entries (
    upload_id     bigint NOT NULL REFERENCES registry_uploads (id),
    official_id   text NOT NULL,
    name          text NOT NULL,
    municipality  text,
    PRIMARY KEY (upload_id, official_id)
);

-- Membership follows the structure except in archived chats, whose members stay until the chat's readable_until
-- passes (a graduated class's teachers and the guardians still in the school read its history). Same signature as
-- sql/004's, which it replaces.
CREATE OR REPLACE FUNCTION zvonok_sync_school_members(p_school bigint) RETURNS TABLE (chat_id bigint, person_id bigint, joined boolean)
LANGUAGE sql AS $$
    SELECT changed.*
    FROM (SELECT array_agg(d.chat_id) AS chats, array_agg(d.person_id) AS people
          FROM zvonok_desired_school_members(p_school) d
          JOIN chats c ON c.id = d.chat_id AND c.archived_at IS NULL) desired,
    LATERAL zvonok_apply_members(
        ARRAY(SELECT id FROM chats WHERE school_id = p_school AND kind <> 'direct' AND archived_at IS NULL),
        coalesce(desired.chats, '{}'), coalesce(desired.people, '{}')) changed
$$;

-- RFC 3339 in UTC with milliseconds, as the API writes times (Wire.timestamp): the personal-data export is built as
-- one JSON document in the database.
CREATE FUNCTION zvonok_rfc3339(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;
