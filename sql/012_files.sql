-- Files in chats (issue 17): photos, documents, voice notes and videos, uploaded before the message that carries them.
--
-- Bytes are content-addressed: one blob per distinct SHA-256 (of the stored bytes, metadata already stripped from
-- photos), whichever back end holds them (the chunks below, or S3-compatible object storage). A file is one upload of
-- a blob to a chat by a person, with the name it was given; a message carries its files, which are linked to it by
-- (chat, seq) in the group commit's own statement — only files of its sender, in its chat, that no message carries.

CREATE TABLE file_blobs (
    sha256       bytea PRIMARY KEY CHECK (length(sha256) = 32),
    size         bigint NOT NULL CHECK (size >= 0),
    -- Whether the back end holds all its bytes (a blob is claimed here before its bytes are written).
    stored       boolean NOT NULL DEFAULT false,
    -- The last time an upload claimed it: the clean-up job leaves blobs claimed within the hour, whose files may be
    -- about to be inserted.
    claimed_at   timestamptz NOT NULL DEFAULT now()
);

-- The PostgreSQL back end's bytes: a blob in chunks, so that no statement and no server buffer holds a whole file.
-- Photos, audio and video are compressed already: PostgreSQL's own compression would only cost time.
CREATE TABLE file_chunks (
    sha256  bytea NOT NULL,
    n       integer NOT NULL CHECK (n >= 0),
    data    bytea NOT NULL,
    PRIMARY KEY (sha256, n)
);
ALTER TABLE file_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE files (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_id         bigint NOT NULL REFERENCES chats (id),
    uploader_id     bigint NOT NULL REFERENCES people (id),
    name            text NOT NULL,
    sha256          bytea NOT NULL REFERENCES file_blobs (sha256),
    size            bigint NOT NULL,
    type            text NOT NULL,
    width           integer,
    height          integer,
    preview_sha256  bytea REFERENCES file_blobs (sha256),
    uploaded_at     timestamptz NOT NULL DEFAULT now(),
    -- Its place among its message's files.
    position        smallint,
    -- The message that carries it, (chat_id, posted_seq), once committed, and its send time (the partition of
    -- history it is in, for the retention of issue 20).
    posted_seq      bigint,
    posted_at       timestamptz,
    -- When that message was deleted: the clean-up removes the file after the moderation window.
    message_deleted_at timestamptz,
    CHECK ((posted_seq IS NULL) = (position IS NULL))
);
CREATE INDEX files_of_messages ON files (chat_id, posted_seq, position) WHERE posted_seq IS NOT NULL;
CREATE INDEX files_not_posted ON files (uploaded_at) WHERE posted_seq IS NULL;
CREATE INDEX files_of_deleted_messages ON files (message_deleted_at) WHERE message_deleted_at IS NOT NULL;
CREATE INDEX files_by_post_time ON files (posted_at) WHERE posted_at IS NOT NULL;
-- The daily quota: what a person uploaded in the last 24 hours.
CREATE INDEX files_by_uploader ON files (uploader_id, uploaded_at);
CREATE INDEX files_by_blob ON files (sha256);
CREATE INDEX files_by_preview ON files (preview_sha256) WHERE preview_sha256 IS NOT NULL;

-- The files of a message as JSON for history, sync and the other nodes: `[{id, name, size, type, width, height,
-- preview}]` in the sender's order, NULL for a message without files (nearly all of them: one index probe each).
CREATE FUNCTION zvonok_message_files(p_chat bigint, p_seq bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT json_agg(json_build_object('id', f.id, 'name', f.name, 'size', f.size, 'type', f.type, 'width', f.width,
                                      'height', f.height, 'preview', f.preview_sha256 IS NOT NULL)
                    ORDER BY f.position)::text
    FROM files f
    WHERE f.chat_id = p_chat AND f.posted_seq = p_seq
$$;
