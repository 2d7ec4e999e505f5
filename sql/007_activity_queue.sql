-- Activity counting out of the group commit's lock path.
--
-- Until now the group commit upserted its (day, chat, person) rows of activity_daily inside the committing
-- transaction, and the rating's roll-up triggers (sql/005) upserted rating_chat_weeks and rating_staff_weeks behind
-- them. Consecutive batches touch the same rows, so up to four commits in flight waited on each other's activity
-- row locks: about half of each batch's time (docs/performance.md).
--
-- Now every change to activity — a batch's messages, a lost claim taken back, an edit or a deletion — is appended
-- to activity_queue in the transaction that makes it, so that a crash loses or keeps both together; appends never
-- conflict. zvonok_apply_queued_activity() moves the queue into activity_daily (and through its triggers into the
-- roll-ups) outside any commit: every second in the background (ActivityApplier), and before every read of
-- activity or the rating (ActivityStore.applyQueued), so that a read right after a send is exact.

-- Deltas of activity_daily not applied yet. No key and no index: pure appends, and the applier takes the whole
-- table. Vacuumed after every 10,000 dead rows rather than a fifth of the table, since each application empties it.
CREATE TABLE activity_queue (
    day        date NOT NULL,
    chat_id    bigint NOT NULL,
    person_id  bigint NOT NULL,
    messages   integer NOT NULL,
    counted    integer NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);

-- Adds (sign 1) or takes back (sign -1) the activity of the messages at `positions` of a batch: one queue row per
-- chat and sender, appended in the group commit's transaction (same signature as sql/006's, which it replaces).
CREATE OR REPLACE FUNCTION zvonok_count_activity(positions bigint[], p_chat bigint[], p_sender bigint[], p_counted boolean[], sign integer, at timestamptz)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO activity_queue (day, chat_id, person_id, messages, counted)
    SELECT (at AT TIME ZONE 'UTC' + interval '3 hours')::date, p_chat[n], p_sender[n], sign * count(*), sign * count(*) FILTER (WHERE p_counted[n])
    FROM unnest(positions) AS n
    GROUP BY p_chat[n], p_sender[n]
$$;

-- Moves every queued delta into activity_daily in one statement, summed per (day, chat, person); the triggers of
-- sql/005 then bring the weekly roll-ups along, once per application. Returns the queue rows taken.
--
-- Exactly once, in READ COMMITTED, with appliers running at once (two nodes, or the background applier and a
-- reader): each queue row is deleted by one transaction only. A second applier whose DELETE reaches a row the first
-- has deleted but not committed waits for that row's lock; once the first commits (its activity_daily upsert with
-- it) the row is gone and the second skips it, and if the first rolls back the row is live again and the second
-- takes it. Rows appended after the DELETE's snapshot are not seen and stay for the next run. The upsert goes in
-- key order, and the appliers queue up behind each other on the queue's rows before they reach activity_daily, so
-- they do not deadlock; committers only append, so they never wait on an applier.
CREATE FUNCTION zvonok_apply_queued_activity() RETURNS bigint
LANGUAGE sql AS $$
    WITH taken AS (
        DELETE FROM activity_queue RETURNING day, chat_id, person_id, messages, counted
    ),
    applied AS (
        INSERT INTO activity_daily AS a (day, chat_id, person_id, messages, counted)
        SELECT day, chat_id, person_id, sum(messages), sum(counted)
        FROM taken
        GROUP BY day, chat_id, person_id
        ORDER BY day, chat_id, person_id
        ON CONFLICT (day, chat_id, person_id) DO UPDATE
            SET messages = a.messages + EXCLUDED.messages, counted = a.counted + EXCLUDED.counted
    )
    SELECT count(*) FROM taken
$$;
