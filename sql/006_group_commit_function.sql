-- The group commit in one call (MessageStore.commit): sequencing, receipts, messages and activity of a whole batch
-- in one statement's round trip, so that the chats' row locks are held for the work and the COMMIT only, not across
-- a conversation of eight round trips with the server; and each receipt is written once, with its seq.
--
-- Arguments are the batch's sends, position by position. Returns one row per send, with its position (1-based):
-- new messages with is_new and their seq; a retried (sender, cid) — sent before, or twice in this batch — with its
-- original message (chat, seq, time and text; text is NULL for new ones, which the caller holds already).
--
-- Invariants (docs/architecture.md): per chat, seq runs 1, 2, 3, … with no gap — the chats' rows are locked in
-- ascending id order (two batches never deadlock) before seqs are handed out, and last_seq advances by exactly the
-- messages inserted; (sender, cid) makes one message — receipts are claimed in key order with ON CONFLICT DO NOTHING,
-- and a claim lost to a retry racing in another transaction is numbered out again before anything else is written.
CREATE FUNCTION zvonok_commit_messages(p_sender bigint[], p_cid text[], p_chat bigint[], p_text text[], p_counted boolean[])
RETURNS TABLE (ord bigint, chat_id bigint, seq bigint, sent_at_ms bigint, is_new boolean, text text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_now timestamptz := now();
    v_new bigint[];      -- positions of the new messages, ascending
    v_seq bigint[];      -- their seqs, position by position
    v_claimed bigint[];
BEGIN
    -- The first send of each (sender, cid) of the batch that no committed receipt holds.
    SELECT coalesce(array_agg(b.o ORDER BY b.o), '{}') INTO v_new
    FROM (SELECT DISTINCT ON (u.s, u.c) u.o, u.s, u.c
          FROM unnest(p_sender, p_cid) WITH ORDINALITY AS u (s, c, o)
          ORDER BY u.s, u.c, u.o) b
    WHERE NOT EXISTS (SELECT 1 FROM message_receipts r WHERE r.sender_id = b.s AND r.cid = b.c);

    -- Activity first: it needs no seq, and whatever runs before the chats' locks runs beside other batches.
    PERFORM zvonok_count_activity(v_new, p_chat, p_sender, p_counted, 1, v_now);

    PERFORM 1 FROM chats WHERE id IN (SELECT p_chat[n] FROM unnest(v_new) AS n) ORDER BY id FOR UPDATE;
    v_seq := zvonok_number_messages(v_new, p_chat);

    WITH claimed AS (
        INSERT INTO message_receipts (sender_id, cid, chat_id, seq, sent_at)
        SELECT p_sender[x.n], p_cid[x.n], p_chat[x.n], x.s, v_now
        FROM unnest(v_new, v_seq) AS x (n, s)
        ORDER BY p_sender[x.n], p_cid[x.n]
        ON CONFLICT (sender_id, cid) DO NOTHING
        RETURNING sender_id, cid
    )
    SELECT coalesce(array_agg(n ORDER BY n), '{}') INTO v_claimed
    FROM unnest(v_new) AS n JOIN claimed ON claimed.sender_id = p_sender[n] AND claimed.cid = p_cid[n];
    IF cardinality(v_claimed) < cardinality(v_new) THEN
        -- A retry committed in another transaction meanwhile: count and number only what this batch claimed.
        PERFORM zvonok_count_activity(ARRAY(SELECT n FROM unnest(v_new) AS n EXCEPT SELECT n FROM unnest(v_claimed) AS n), p_chat, p_sender, p_counted, -1, v_now);
        v_new := v_claimed;
        v_seq := zvonok_number_messages(v_new, p_chat);
        UPDATE message_receipts r SET seq = x.s
        FROM unnest(v_new, v_seq) AS x (n, s)
        WHERE r.sender_id = p_sender[x.n] AND r.cid = p_cid[x.n];
    END IF;

    UPDATE chats c SET last_seq = c.last_seq + k.added
    FROM (SELECT p_chat[n] AS id, count(*) AS added FROM unnest(v_new) AS n GROUP BY 1) k
    WHERE c.id = k.id;

    INSERT INTO messages (chat_id, seq, sent_at, sender_id, cid, text, counted)
    SELECT p_chat[x.n], x.s, v_now, p_sender[x.n], p_cid[x.n], p_text[x.n], p_counted[x.n]
    FROM unnest(v_new, v_seq) AS x (n, s);

    RETURN QUERY
    SELECT x.n, p_chat[x.n], x.s, (extract(epoch FROM v_now) * 1000)::bigint, true, NULL::text
    FROM unnest(v_new, v_seq) AS x (n, s);
    -- Retries (rare): their original messages.
    IF cardinality(v_new) < cardinality(p_sender) THEN
        RETURN QUERY
        SELECT b.o, coalesce(m.chat_id, b.chat), coalesce(m.seq, 0), (extract(epoch FROM coalesce(m.sent_at, v_now)) * 1000)::bigint, false, m.text
        FROM unnest(p_sender, p_cid, p_chat) WITH ORDINALITY AS b (s, c, chat, o)
        LEFT JOIN message_receipts r ON r.sender_id = b.s AND r.cid = b.c
        LEFT JOIN messages m ON m.chat_id = r.chat_id AND m.seq = r.seq AND m.sent_at = r.sent_at
        WHERE b.o <> ALL (v_new);
    END IF;
END
$$;

-- Seqs for the messages at `positions` (ascending) of a batch: each chat continues from its last_seq, in batch order.
-- The caller holds the chats' row locks.
CREATE FUNCTION zvonok_number_messages(positions bigint[], p_chat bigint[]) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(c.last_seq + k.rank ORDER BY k.n), '{}')
    FROM (SELECT n, p_chat[n] AS chat, row_number() OVER (PARTITION BY p_chat[n] ORDER BY n) AS rank
          FROM unnest(positions) AS n) k
    JOIN chats c ON c.id = k.chat
$$;

-- Adds (sign 1) or takes back (sign -1) the activity of the messages at `positions` of a batch, in key order so that
-- concurrent batches lock shared activity rows in the same order. Its triggers keep the rating's roll-ups (sql/005).
CREATE FUNCTION zvonok_count_activity(positions bigint[], p_chat bigint[], p_sender bigint[], p_counted boolean[], sign integer, at timestamptz)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO activity_daily AS a (day, chat_id, person_id, messages, counted)
    SELECT (at AT TIME ZONE 'UTC' + interval '3 hours')::date, p_chat[n], p_sender[n], sign * count(*), sign * count(*) FILTER (WHERE p_counted[n])
    FROM unnest(positions) AS n
    GROUP BY p_chat[n], p_sender[n]
    ORDER BY p_chat[n], p_sender[n]
    ON CONFLICT (day, chat_id, person_id) DO UPDATE
        SET messages = a.messages + EXCLUDED.messages, counted = a.counted + EXCLUDED.counted
$$;
