-- Leadership of each projection: a lease on the database's clock that its leader renews. A
-- standby takes a lease that has gone unrenewed; each batch the leader commits checks, in its
-- own transaction, that the lease is still its own, so a leader that lost it commits nothing.

CREATE TABLE projection_leases (
    name           text        PRIMARY KEY,
    holder         text        NOT NULL,
    expires_at     timestamptz NOT NULL,
    taken_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- A transient error the leader is retrying (state 'retrying' until a batch succeeds).
    retry_error    text,
    retrying_since timestamptz
);
