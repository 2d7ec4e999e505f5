-- Sessions that end everywhere at once, membership every node can check, and chats nobody may post in any more
-- (issue 15: revocation reaches open connections).

-- A token's id names one session: signing out closes that session's connections and no other. A token expires after
-- an idle period that slides with use (CredentialStore); rows from before this migration get the default period.
ALTER TABLE tokens ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE tokens ADD CONSTRAINT tokens_id_key UNIQUE (id);
ALTER TABLE tokens ADD COLUMN expires_at timestamptz NOT NULL DEFAULT now() + interval '90 days';
ALTER TABLE tokens ALTER COLUMN expires_at DROP DEFAULT;

-- Every change of a person's chats raises their membership version, in the transaction that makes it. A node keeps,
-- for each connected person, the version of the chats it follows; a notification or the periodic check that finds a
-- higher version reads the person's chats again. Versions only rise (the row lock orders concurrent changes), so a
-- read that raced a newer change is recognised as older and dropped. No row: version 0.
CREATE TABLE membership_versions (
    person_id  bigint PRIMARY KEY REFERENCES people (id),
    version    bigint NOT NULL
);

CREATE FUNCTION zvonok_raise_membership_versions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- In person order, so that two transactions changing the same people never deadlock on these rows.
    INSERT INTO membership_versions AS v (person_id, version)
    SELECT DISTINCT person_id, 1 FROM changed ORDER BY person_id
    ON CONFLICT (person_id) DO UPDATE SET version = v.version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER chat_members_joined AFTER INSERT ON chat_members
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION zvonok_raise_membership_versions();
CREATE TRIGGER chat_members_left AFTER DELETE ON chat_members
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION zvonok_raise_membership_versions();

-- An archived chat keeps its members and history, readable, and takes no new message: a direct chat whose other
-- person was removed, say.
ALTER TABLE chats ADD COLUMN archived_at timestamptz;

-- The group commit of sql/006, now also the last word on who may post: only a member, and only in a chat that is not
-- archived. The hub checks membership in memory first; this check holds even when a node's view is behind (a lost
-- notification), so a removed person cannot post on any node. Refused sends come back with `refused` and no seq.
DROP FUNCTION zvonok_commit_messages(bigint[], text[], bigint[], text[], boolean[]);

CREATE FUNCTION zvonok_commit_messages(p_sender bigint[], p_cid text[], p_chat bigint[], p_text text[], p_counted boolean[])
RETURNS TABLE (ord bigint, chat_id bigint, seq bigint, sent_at_ms bigint, is_new boolean, text text, refused boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_now timestamptz := now();
    v_new bigint[];      -- positions of the new messages, ascending
    v_seq bigint[];      -- their seqs, position by position
    v_claimed bigint[];
    v_refused bigint[];  -- positions of new sends their senders may not post
BEGIN
    -- The first send of each (sender, cid) of the batch that no committed receipt holds.
    SELECT coalesce(array_agg(b.o ORDER BY b.o), '{}') INTO v_new
    FROM (SELECT DISTINCT ON (u.s, u.c) u.o, u.s, u.c
          FROM unnest(p_sender, p_cid) WITH ORDINALITY AS u (s, c, o)
          ORDER BY u.s, u.c, u.o) b
    WHERE NOT EXISTS (SELECT 1 FROM message_receipts r WHERE r.sender_id = b.s AND r.cid = b.c);

    -- Who may post: a member of a chat that is not archived. (A retry of a message committed before is answered
    -- with it, as above, even if its sender has left since.)
    SELECT coalesce(array_agg(n ORDER BY n), '{}') INTO v_refused
    FROM unnest(v_new) AS n
    WHERE NOT EXISTS (SELECT 1 FROM chat_members m JOIN chats c ON c.id = m.chat_id
                      WHERE m.chat_id = p_chat[n] AND m.person_id = p_sender[n] AND c.archived_at IS NULL);
    IF cardinality(v_refused) > 0 THEN
        v_new := ARRAY(SELECT n FROM unnest(v_new) AS n WHERE n <> ALL (v_refused) ORDER BY n);
    END IF;

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
    SELECT x.n, p_chat[x.n], x.s, (extract(epoch FROM v_now) * 1000)::bigint, true, NULL::text, false
    FROM unnest(v_new, v_seq) AS x (n, s);
    -- Retries (rare): their original messages; refused sends (rarer): no message.
    IF cardinality(v_new) < cardinality(p_sender) THEN
        RETURN QUERY
        SELECT b.o, coalesce(m.chat_id, b.chat), coalesce(m.seq, 0), (extract(epoch FROM coalesce(m.sent_at, v_now)) * 1000)::bigint, false, m.text,
               EXISTS (SELECT 1 FROM unnest(v_refused) AS n WHERE p_sender[n] = b.s AND p_cid[n] = b.c)
        FROM unnest(p_sender, p_cid, p_chat) WITH ORDINALITY AS b (s, c, chat, o)
        LEFT JOIN message_receipts r ON r.sender_id = b.s AND r.cid = b.c
        LEFT JOIN messages m ON m.chat_id = r.chat_id AND m.seq = r.seq AND m.sent_at = r.sent_at
        WHERE b.o <> ALL (v_new);
    END IF;
END
$$;

-- Cluster notifications too long for NOTIFY's 8,000-byte payload (an edit of a 4,096-character text, say): the
-- sending node keeps the payload here and announces its id; the others read it back. Rows are pruned after ten
-- minutes by every node's relay (ClusterRelay), long after any listener could still ask for them.
CREATE TABLE relay_payloads (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
