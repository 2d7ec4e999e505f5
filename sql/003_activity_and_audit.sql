-- Activity roll-ups for the weekly rating (contract §6) and the audit log of administrative changes.

-- One row per Moscow day, chat and sender, written in the same transaction as the messages it counts.
-- The rating reads these and the structure, never the message table.
CREATE TABLE activity_daily (
    day        date NOT NULL,
    chat_id    bigint NOT NULL,
    person_id  bigint NOT NULL,
    -- Every message sent.
    messages   integer NOT NULL DEFAULT 0,
    -- Messages that count for the rating, less those deleted within the week they were sent in.
    counted    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (day, chat_id, person_id)
);
CREATE INDEX activity_daily_by_person ON activity_daily (person_id, day);

CREATE TABLE audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor_id   bigint REFERENCES people (id),
    action     text NOT NULL,
    object     text NOT NULL,
    details    jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Where in the structure the change happened, so that the admins above can read it.
    region_code      text,
    municipality_id  bigint,
    school_id        bigint
);
CREATE INDEX audit_log_by_region ON audit_log (region_code, id);
CREATE INDEX audit_log_by_school ON audit_log (school_id, id);
