-- The event store: one append-only table, ordered globally by (transaction_id, position).

CREATE TABLE events (
    -- position is drawn at INSERT but becomes visible at COMMIT, so it is not a safe cursor alone;
    -- readers order by (transaction_id, position) and stay below the snapshot's xmin horizon.
    position       bigint GENERATED ALWAYS AS IDENTITY,
    transaction_id xid8        NOT NULL DEFAULT pg_current_xact_id(),
    stream_id      uuid        NOT NULL,
    stream_type    text        NOT NULL,
    version        integer     NOT NULL CHECK (version > 0),
    type           text        NOT NULL,
    type_version   smallint    NOT NULL DEFAULT 1,
    payload        jsonb       NOT NULL,
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    actor          text        NOT NULL,
    on_behalf_of   text,
    source         text,
    correlation_id uuid,
    causation_id   uuid,
    hash           bytea       NOT NULL,
    CONSTRAINT events_stream_version PRIMARY KEY (stream_id, version),
    CONSTRAINT events_position UNIQUE (position)
);

CREATE UNIQUE INDEX events_global_order ON events (transaction_id, position);

CREATE FUNCTION events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'TR001';
END
$$;

-- TRUNCATE does not fire row triggers, which keeps test resets possible for the owner.
CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_reject_change();

CREATE TABLE idempotency_keys (
    key            text  PRIMARY KEY,
    fingerprint    bytea NOT NULL,
    -- The events of the first attempt are found again by the transaction that wrote them.
    transaction_id xid8  NOT NULL DEFAULT pg_current_xact_id(),
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- One round trip per append: check heads, extend each stream's hash chain, insert.
-- Streams are passed sorted by id so concurrent multi-stream appends lock in one order.
CREATE FUNCTION append_events(
    p_key          text,
    p_fingerprint  bytea,
    p_streams      uuid[],
    p_stream_types text[],
    p_expected     integer[],
    p_counts       integer[],
    p_types        text[],
    p_type_versions smallint[],
    p_payloads     jsonb[],
    p_occurred     timestamptz[],
    p_canonical    bytea[],
    p_actor        text,
    p_on_behalf_of text,
    p_source       text,
    p_correlation  uuid,
    p_causation    uuid
) RETURNS TABLE (stream_id uuid, version integer, "position" bigint, transaction_id xid8, replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_first_xid xid8;
    v_first_fp  bytea;
    v_head      integer;
    v_hash      bytea;
    v_offset    integer := 0;
    v_stream    integer;
    v_i         integer;
    v_versions  integer[] := '{}';
    v_hashes    bytea[] := '{}';
    v_ids       uuid[] := '{}';
    v_stypes    text[] := '{}';
BEGIN
    IF p_key IS NOT NULL THEN
        -- ON CONFLICT waits for a racing attempt with the same key to commit or roll back.
        INSERT INTO idempotency_keys AS k (key, fingerprint) VALUES (p_key, p_fingerprint)
        ON CONFLICT (key) DO NOTHING;
        IF NOT FOUND THEN
            SELECT k.transaction_id, k.fingerprint INTO v_first_xid, v_first_fp
            FROM idempotency_keys k WHERE k.key = p_key;
            IF v_first_fp <> p_fingerprint THEN
                RAISE EXCEPTION 'idempotency key % was used for a different request', p_key
                    USING ERRCODE = 'TR422';
            END IF;
            RETURN QUERY
                SELECT e.stream_id, e.version, e.position, e.transaction_id, true
                FROM events e WHERE e.transaction_id = v_first_xid ORDER BY e.position;
            RETURN;
        END IF;
    END IF;

    FOR v_stream IN 1 .. coalesce(array_length(p_streams, 1), 0) LOOP
        SELECT e.version, e.hash INTO v_head, v_hash
        FROM events e WHERE e.stream_id = p_streams[v_stream]
        ORDER BY e.version DESC LIMIT 1;
        v_head := coalesce(v_head, 0);
        v_hash := coalesce(v_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
        IF v_head <> p_expected[v_stream] THEN
            RAISE EXCEPTION 'stream % is at version %, not %', p_streams[v_stream], v_head, p_expected[v_stream]
                USING ERRCODE = 'TR409', DETAIL = p_streams[v_stream]::text || ' ' || v_head::text;
        END IF;
        FOR v_i IN 1 .. p_counts[v_stream] LOOP
            v_hash := sha256(v_hash || p_canonical[v_offset + v_i]);
            v_hashes := v_hashes || v_hash;
            v_versions := v_versions || (v_head + v_i);
            v_ids := v_ids || p_streams[v_stream];
            v_stypes := v_stypes || p_stream_types[v_stream];
        END LOOP;
        v_offset := v_offset + p_counts[v_stream];
    END LOOP;

    RETURN QUERY
    INSERT INTO events AS e (stream_id, stream_type, version, type, type_version, payload, occurred_at,
                        actor, on_behalf_of, source, correlation_id, causation_id, hash)
    SELECT u.stream_id, u.stream_type, u.version, u.type, u.type_version, u.payload, u.occurred_at,
           p_actor, p_on_behalf_of, p_source, p_correlation, p_causation, u.hash
    FROM unnest(v_ids, v_stypes, v_versions, p_types, p_type_versions, p_payloads, p_occurred, v_hashes)
         AS u(stream_id, stream_type, version, type, type_version, payload, occurred_at, hash)
    RETURNING e.stream_id, e.version, e.position, e.transaction_id, false;
END
$$;
