-- The school structure and its people (contract §1), with the credentials that let people in (§2).
--
-- Identifiers are bigint inside the database; the API shows them as opaque strings.
-- region_code and municipality_id are copied down onto schools and people so that an admin's
-- subtree and the rating's roll-ups are single index look-ups, never recursive joins.

CREATE TABLE regions (
    code        text PRIMARY KEY CHECK (code ~ '^[0-9]{2}$' AND code <> '00'),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE municipalities (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_code  text NOT NULL REFERENCES regions (code),
    name         text NOT NULL,
    external_id  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (region_code, external_id)
);
CREATE INDEX municipalities_by_region ON municipalities (region_code, id);

CREATE TABLE schools (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_code      text NOT NULL REFERENCES regions (code),
    municipality_id  bigint NOT NULL REFERENCES municipalities (id),
    name             text NOT NULL,
    external_id      text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (region_code, external_id)
);
CREATE INDEX schools_by_municipality ON schools (municipality_id, id);
CREATE INDEX schools_by_region ON schools (region_code, id);

CREATE TABLE classes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id    bigint NOT NULL REFERENCES schools (id),
    grade        smallint NOT NULL CHECK (grade BETWEEN 1 AND 11),
    letter       text NOT NULL,
    year         text NOT NULL CHECK (year ~ '^[0-9]{4}/[0-9]{4}$'),
    external_id  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (school_id, year, grade, letter),
    UNIQUE (school_id, external_id)
);

-- Everyone who can hold a token. The anchor columns say where a person belongs:
--   ministry: none; regional_admin: region; municipal_admin: municipality;
--   school_admin, teacher, guardian: school; student: school and class.
-- listed_at is when an admin created the person, registered_at when they first activated an invite
-- (the rating asks "registered by the end of week W", so these moments are kept, not flags).
CREATE TABLE people (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    role             text NOT NULL CHECK (role IN ('ministry', 'regional_admin', 'municipal_admin',
                                                   'school_admin', 'teacher', 'student', 'guardian')),
    name             text NOT NULL,
    external_id      text,
    region_code      text REFERENCES regions (code),
    municipality_id  bigint REFERENCES municipalities (id),
    school_id        bigint REFERENCES schools (id),
    class_id         bigint REFERENCES classes (id),
    listed_at        timestamptz NOT NULL DEFAULT now(),
    registered_at    timestamptz,
    -- Set when an admin removes the person: tokens are revoked and chats left, the row stays for history.
    removed_at       timestamptz,
    CHECK (role = 'ministry' OR region_code IS NOT NULL),
    CHECK (role IN ('ministry', 'regional_admin') OR municipality_id IS NOT NULL),
    CHECK (role NOT IN ('school_admin', 'teacher', 'student', 'guardian') OR school_id IS NOT NULL),
    CHECK ((role = 'student') = (class_id IS NOT NULL))
);
CREATE INDEX people_by_school ON people (school_id, role, id) WHERE school_id IS NOT NULL;
CREATE INDEX people_by_class ON people (class_id, id) WHERE class_id IS NOT NULL;
CREATE INDEX people_by_municipality ON people (municipality_id, role, id) WHERE municipality_id IS NOT NULL;
CREATE INDEX people_by_region ON people (region_code, role, id) WHERE region_code IS NOT NULL;
-- externalId is unique where the regional system that issued it is: per school for school people,
-- per municipality and per region for the admins above them.
CREATE UNIQUE INDEX people_external_in_school ON people (school_id, external_id)
    WHERE school_id IS NOT NULL AND external_id IS NOT NULL;
CREATE UNIQUE INDEX people_external_in_municipality ON people (municipality_id, external_id)
    WHERE role = 'municipal_admin' AND external_id IS NOT NULL;
CREATE UNIQUE INDEX people_external_in_region ON people (region_code, external_id)
    WHERE role = 'regional_admin' AND external_id IS NOT NULL;

-- A teacher's (or school admin's) assignment to a class.
CREATE TABLE class_teachers (
    class_id   bigint NOT NULL REFERENCES classes (id),
    person_id  bigint NOT NULL REFERENCES people (id),
    homeroom   boolean NOT NULL DEFAULT false,
    PRIMARY KEY (class_id, person_id)
);
CREATE INDEX class_teachers_by_person ON class_teachers (person_id);
-- At most one homeroom teacher per class.
CREATE UNIQUE INDEX class_teachers_one_homeroom ON class_teachers (class_id) WHERE homeroom;

CREATE TABLE guardianships (
    guardian_id  bigint NOT NULL REFERENCES people (id),
    student_id   bigint NOT NULL REFERENCES people (id),
    PRIMARY KEY (guardian_id, student_id)
);
CREATE INDEX guardianships_by_student ON guardianships (student_id);

-- Invite codes and bearer tokens are stored only as SHA-256 hashes: a copy of the database lets nobody in.
CREATE TABLE invites (
    code_hash   bytea PRIMARY KEY,
    person_id   bigint NOT NULL REFERENCES people (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    voided_at   timestamptz
);
CREATE INDEX invites_by_person ON invites (person_id);

CREATE TABLE tokens (
    token_hash  bytea PRIMARY KEY,
    person_id   bigint NOT NULL REFERENCES people (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX tokens_by_person ON tokens (person_id);
