-- Moderation bound to the chat (issue 15): what edits replaced and moderators' deletions removed, and members'
-- reports of messages. Neither is shown to members; the admins over the chat's place read them through the API.

-- The text a message held before each edit, and the text a moderator's deletion took away (the message row keeps
-- its text too, but an edit overwrites it). One row per change, oldest first by id.
CREATE TABLE message_revisions (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_id  bigint NOT NULL REFERENCES chats (id),
    seq      bigint NOT NULL,
    change   text NOT NULL CHECK (change IN ('edit', 'deletion')),
    text     text NOT NULL,
    -- Who made the change: the author for an edit, the moderator for a deletion.
    by_id    bigint NOT NULL REFERENCES people (id),
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_revisions_by_message ON message_revisions (chat_id, seq, id);

-- A member's report of a message, open until one of the admins over the chat closes it.
CREATE TABLE message_reports (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_id      bigint NOT NULL REFERENCES chats (id),
    seq          bigint NOT NULL,
    reporter_id  bigint NOT NULL REFERENCES people (id),
    reason       text NOT NULL,
    -- The chat's school, copied so that a school's open reports are one index look-up.
    school_id    bigint NOT NULL REFERENCES schools (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    closed_at    timestamptz,
    closed_by    bigint REFERENCES people (id)
);
-- One open report per reporter and message.
CREATE UNIQUE INDEX message_reports_one_open ON message_reports (chat_id, seq, reporter_id) WHERE closed_at IS NULL;
CREATE INDEX message_reports_open_by_school ON message_reports (school_id, id) WHERE closed_at IS NULL;
