-- Chats, their members and their history (contract §4–5).

CREATE TABLE chats (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('class', 'class_parents', 'school_staff', 'school',
                                                   'municipality', 'direct')),
    title            text NOT NULL,
    region_code      text REFERENCES regions (code),
    municipality_id  bigint REFERENCES municipalities (id),
    school_id        bigint REFERENCES schools (id),
    class_id         bigint REFERENCES classes (id),
    -- For direct chats: the two people, lower id first, so that a pair has exactly one chat.
    direct_low       bigint REFERENCES people (id),
    direct_high      bigint REFERENCES people (id),
    -- The sequencer: a batch takes the row lock with UPDATE … SET last_seq = last_seq + n, which orders
    -- concurrent writers on every node, so seq runs 1, 2, 3, … with no gap.
    last_seq         bigint NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'direct') = (direct_low IS NOT NULL AND direct_high IS NOT NULL AND direct_low < direct_high))
);
CREATE UNIQUE INDEX chats_one_per_class ON chats (class_id, kind) WHERE class_id IS NOT NULL;
CREATE UNIQUE INDEX chats_one_per_school ON chats (school_id, kind) WHERE class_id IS NULL AND kind IN ('school', 'school_staff');
CREATE UNIQUE INDEX chats_one_per_municipality ON chats (municipality_id, kind) WHERE kind = 'municipality';
CREATE UNIQUE INDEX chats_one_per_pair ON chats (direct_low, direct_high) WHERE kind = 'direct';

-- Membership, kept in step with the structure. read_seq is the member's read mark.
CREATE TABLE chat_members (
    chat_id    bigint NOT NULL REFERENCES chats (id),
    person_id  bigint NOT NULL REFERENCES people (id),
    joined_at  timestamptz NOT NULL DEFAULT now(),
    read_seq   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (chat_id, person_id)
);
CREATE INDEX chat_members_by_person ON chat_members (person_id, chat_id);

-- History, partitioned by month of the send time so that national-scale history stays cheap to
-- query and old months can be retired by dropping a partition.
--
-- A partitioned table's primary key must contain the partition column, so PostgreSQL cannot itself
-- enforce that (chat_id, seq) is unique. It rests on the sequencer above: every seq is handed out
-- exactly once under the chat row's lock, in the same transaction that inserts the row.
CREATE TABLE messages (
    chat_id     bigint NOT NULL,
    seq         bigint NOT NULL,
    sent_at     timestamptz NOT NULL,
    sender_id   bigint NOT NULL,
    cid         text NOT NULL,
    text        text NOT NULL,
    -- Whether the text counts for the rating (it holds a letter or a digit; contract §6).
    counted     boolean NOT NULL,
    edited_at   timestamptz,
    deleted_at  timestamptz,
    PRIMARY KEY (chat_id, seq, sent_at)
) PARTITION BY RANGE (sent_at);

-- Rows whose month has no partition yet land here rather than fail; the server creates the
-- partitions ahead of time, so this stays empty in practice.
CREATE TABLE messages_default PARTITION OF messages DEFAULT;

-- Idempotency of (sender, cid) across all partitions and all nodes: the first message a client id
-- made, found again when the client retries.
CREATE TABLE message_receipts (
    sender_id  bigint NOT NULL,
    cid        text NOT NULL,
    chat_id    bigint NOT NULL,
    seq        bigint NOT NULL,
    sent_at    timestamptz NOT NULL,
    PRIMARY KEY (sender_id, cid)
);

-- Creates the monthly partitions of messages from the month of from_day for the given number of months.
-- Idempotent; the server calls it at start-up and daily.
CREATE FUNCTION zvonok_ensure_message_partitions(from_day date, months integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    first_day date := date_trunc('month', from_day)::date;
    month_start date;
    partition_name text;
BEGIN
    FOR i IN 0 .. months - 1 LOOP
        month_start := (first_day + make_interval(months => i))::date;
        partition_name := format('messages_%s', to_char(month_start, 'YYYY_MM'));
        IF to_regclass(partition_name) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF messages FOR VALUES FROM (%L) TO (%L)',
                           partition_name, month_start::timestamp AT TIME ZONE 'UTC',
                           (month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC');
        END IF;
    END LOOP;
END
$$;

SELECT zvonok_ensure_message_partitions((now() AT TIME ZONE 'UTC')::date - 31, 4);
