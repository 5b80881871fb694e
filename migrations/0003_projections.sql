-- Projections: each has a versioned name and generations of its tables, one schema per
-- generation; public views point at the live generation, so a rebuild can build the next
-- generation beside it and switch reads over in one transaction.

CREATE TABLE projections (
    name            text PRIMARY KEY,
    live_generation integer NOT NULL
);

CREATE TABLE projection_generations (
    name            text    NOT NULL,
    generation      integer NOT NULL,
    -- The checkpoint: the (transaction_id, position) pair of the last event applied.
    transaction_id  xid8    NOT NULL DEFAULT '0',
    position        bigint  NOT NULL DEFAULT 0,
    events_applied  bigint  NOT NULL DEFAULT 0,
    -- A moving average kept by the runner, for status displays.
    events_per_second double precision NOT NULL DEFAULT 0,
    state           text    NOT NULL CHECK (state IN ('building', 'live', 'failed')),
    error           text,
    failed_position bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, generation)
);

-- Point public views at one generation's tables; runs inside the caller's transaction.
CREATE FUNCTION projection_publish(p_schema text, p_tables text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY p_tables LOOP
        EXECUTE format('DROP VIEW IF EXISTS public.%I', t);
        EXECUTE format('CREATE VIEW public.%I AS SELECT * FROM %I.%I', t, p_schema, t);
    END LOOP;
END
$$;
