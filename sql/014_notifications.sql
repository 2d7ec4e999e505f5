-- Notifications for people with no open connection (issue 18): Web Push subscriptions and phone devices, mutes,
-- quiet hours set by schools in their region's time zone, and the outbox that carries every committed message to the
-- notification sender, written in the group commit's own transaction.

-- Each region's IANA time zone, for its schools' quiet hours (Russia spans eleven).
ALTER TABLE regions ADD COLUMN time_zone text NOT NULL DEFAULT 'Europe/Moscow';

-- The VAPID key pair (RFC 8292), made once by whichever node first needs it, so that every node signs with it.
CREATE TABLE push_vapid_keys (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),
    private_key  bytea NOT NULL CHECK (length(private_key) = 32),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- A browser's push subscription (RFC 8030 endpoint, RFC 8291 keys). An endpoint belongs to one browser profile, so it
-- is unique: subscribing it again moves it to whoever is signed in there now.
CREATE TABLE push_subscriptions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id   bigint NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    endpoint    text NOT NULL UNIQUE,
    p256dh      bytea NOT NULL CHECK (length(p256dh) = 65),
    auth        bytea NOT NULL CHECK (length(auth) = 16),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_subscriptions_by_person ON push_subscriptions (person_id);

-- A phone's registration with its platform's push service.
CREATE TABLE push_devices (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id   bigint NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    platform    text NOT NULL CHECK (platform IN ('fcm', 'apns', 'rustore', 'hms')),
    token       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform, token)
);
CREATE INDEX push_devices_by_person ON push_devices (person_id);

-- A member's mute of a chat; 'infinity' until unmuted.
CREATE TABLE chat_mutes (
    person_id  bigint NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    chat_id    bigint NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    until      timestamptz NOT NULL,
    PRIMARY KEY (person_id, chat_id)
);

-- A school's quiet hours, in minutes after local midnight; a school without a row has the default below. from = to
-- means none.
CREATE TABLE school_quiet_hours (
    school_id    bigint PRIMARY KEY REFERENCES schools (id) ON DELETE CASCADE,
    from_minute  smallint NOT NULL CHECK (from_minute BETWEEN 0 AND 1439),
    to_minute    smallint NOT NULL CHECK (to_minute BETWEEN 0 AND 1439),
    applies      text[] NOT NULL
);

-- When the quiet hours that cover `p_role` at `p_school` end, seen at `p_at`; NULL when they do not cover it then.
-- The default is 21:00–07:00 for students and guardians.
CREATE FUNCTION zvonok_quiet_until(p_school bigint, p_role text, p_at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN NOT p_role = ANY (q.applies) OR q.from_minute = q.to_minute THEN NULL
        WHEN q.from_minute < q.to_minute AND l.minute >= q.from_minute AND l.minute < q.to_minute
            THEN (l.day + make_interval(mins => q.to_minute)) AT TIME ZONE l.zone
        WHEN q.from_minute > q.to_minute AND l.minute >= q.from_minute
            THEN (l.day + 1 + make_interval(mins => q.to_minute)) AT TIME ZONE l.zone
        WHEN q.from_minute > q.to_minute AND l.minute < q.to_minute
            THEN (l.day + make_interval(mins => q.to_minute)) AT TIME ZONE l.zone
    END
    FROM schools s
    JOIN regions r ON r.code = s.region_code
    LEFT JOIN school_quiet_hours h ON h.school_id = s.id
    CROSS JOIN LATERAL (SELECT coalesce(h.from_minute, 1260) AS from_minute, coalesce(h.to_minute, 420) AS to_minute,
                               coalesce(h.applies, '{student,guardian}') AS applies) q
    CROSS JOIN LATERAL (SELECT (p_at AT TIME ZONE r.time_zone)::date AS day, r.time_zone AS zone,
                               (extract(hour FROM p_at AT TIME ZONE r.time_zone) * 60
                                + extract(minute FROM p_at AT TIME ZONE r.time_zone))::int AS minute) l
    WHERE s.id = p_school
$$;

-- Who has a connection open on which node, kept by every node for its own connections (a lost row only costs a
-- notification, so the table is unlogged); rows of a node whose heartbeat stopped count for nothing.
CREATE UNLOGGED TABLE push_presence (
    person_id  bigint NOT NULL,
    node       text NOT NULL,
    PRIMARY KEY (person_id, node)
);
CREATE UNLOGGED TABLE push_nodes (
    node     text PRIMARY KEY,
    seen_at  timestamptz NOT NULL
);

-- Sends an admin marked urgent, recorded before the send is committed, so that the outbox row can say so.
CREATE TABLE urgent_sends (
    sender_id  bigint NOT NULL,
    cid        text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sender_id, cid)
);

-- One row per committed message, appended by the trigger below in the committing transaction (a crash keeps or loses
-- the message and its row together) and taken by the notification sender of any node.
CREATE TABLE notification_outbox (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_id    bigint NOT NULL,
    seq        bigint NOT NULL,
    sender_id  bigint NOT NULL,
    urgent     boolean NOT NULL
);

CREATE FUNCTION zvonok_queue_notifications() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notification_outbox (chat_id, seq, sender_id, urgent)
    SELECT n.chat_id, n.seq, n.sender_id, EXISTS (SELECT 1 FROM urgent_sends u WHERE u.sender_id = n.sender_id AND u.cid = n.cid)
    FROM new_messages n
    ORDER BY n.chat_id, n.seq;
    RETURN NULL;
END
$$;

-- Inserts only: an edit is never notified again.
CREATE TRIGGER messages_queue_notifications AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_messages FOR EACH STATEMENT EXECUTE FUNCTION zvonok_queue_notifications();

-- A notification being gathered for one person and chat: messages within the coalescing window, or held by quiet
-- hours, add to its count; it is sent once due_at passes.
CREATE TABLE notification_pending (
    person_id   bigint NOT NULL,
    chat_id     bigint NOT NULL,
    last_seq    bigint NOT NULL,
    sender_id   bigint NOT NULL,
    count       integer NOT NULL,
    urgent      boolean NOT NULL,
    due_at      timestamptz NOT NULL,
    PRIMARY KEY (person_id, chat_id)
);
CREATE INDEX notification_pending_due ON notification_pending (due_at);

-- One notification for one subscription or device. (target, target_id, chat_id, seq) is the idempotency key: the
-- pending row it came from is deleted in the transaction that inserts it, and a sent one is kept for a day.
CREATE TABLE notification_deliveries (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    target        text NOT NULL CHECK (target IN ('web', 'device')),
    target_id     bigint NOT NULL,
    person_id     bigint NOT NULL,
    chat_id       bigint NOT NULL,
    seq           bigint NOT NULL,
    sender_id     bigint NOT NULL,
    count         integer NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    next_at       timestamptz NOT NULL,
    leased_until  timestamptz,
    sent_at       timestamptz,
    UNIQUE (target, target_id, chat_id, seq)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (next_at) WHERE sent_at IS NULL;
