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
    -- Set on the first event of an append made with an idempotency key: a column rather than
    -- a table of keys, because a second row per append cost about a third of append throughput.
    idempotency_key text,
    request_digest  bytea,
    CONSTRAINT events_stream_version PRIMARY KEY (stream_id, version),
    CONSTRAINT events_position UNIQUE (position)
);

CREATE UNIQUE INDEX events_global_order ON events (transaction_id, position);
CREATE UNIQUE INDEX events_idempotency_key ON events (idempotency_key)
    WHERE idempotency_key IS NOT NULL;

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
