-- The change feed: subscriptions to signed webhooks, the deliveries waiting on a retry, and
-- the log of every attempt. A subscription's cursor is a log checkpoint: every selected event
-- up to it has been answered 2xx by the receiver or waits in subscription_queue.

CREATE TABLE subscriptions (
    id               uuid        PRIMARY KEY,
    -- Whose subscription it is: a leader (any of their tokens), otherwise the creating token.
    owner            text        NOT NULL,
    -- The creator as the access rules know them: deliveries carry only what they could read.
    principal        jsonb       NOT NULL,
    target_url       text        NOT NULL,
    filter           jsonb       NOT NULL,
    description      text        NOT NULL DEFAULT '',
    secret           text        NOT NULL,
    -- After a rotation the previous secret also signs, until previous_until.
    previous_secret  text,
    previous_until   timestamptz,
    -- Counts the subscription's changes: its ETag, and what If-Match compares.
    version          integer     NOT NULL DEFAULT 1,
    status           text        NOT NULL DEFAULT 'active'
                     CHECK (status IN ('active', 'paused')),
    paused_reason    text,
    transaction_id   xid8        NOT NULL DEFAULT '0',
    position         bigint      NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL,
    last_success_at  timestamptz,
    failing_since    timestamptz
);
CREATE INDEX subscriptions_owner ON subscriptions (owner);

-- Deliveries that failed, and the later events of their streams held back behind them; a
-- dead letter (dead_at set) has given up its place and waits for a redelivery.
CREATE TABLE subscription_queue (
    subscription_id  uuid        NOT NULL REFERENCES subscriptions ON DELETE CASCADE,
    transaction_id   xid8        NOT NULL,
    position         bigint      NOT NULL,
    stream_id        uuid        NOT NULL,
    attempts         integer     NOT NULL DEFAULT 0,
    first_failed_at  timestamptz,
    next_attempt_at  timestamptz NOT NULL,
    last_status      integer,
    last_error       text,
    dead_at          timestamptz,
    PRIMARY KEY (subscription_id, position)
);
CREATE INDEX subscription_queue_streams
    ON subscription_queue (subscription_id, stream_id, transaction_id, position);

CREATE TABLE subscription_attempts (
    id               bigserial   PRIMARY KEY,
    subscription_id  uuid        NOT NULL REFERENCES subscriptions ON DELETE CASCADE,
    webhook_id       text        NOT NULL,
    position         bigint      NOT NULL,
    attempt          integer     NOT NULL,
    attempted_at     timestamptz NOT NULL,
    status_code      integer,
    duration_ms      double precision NOT NULL,
    error            text,
    next_attempt_at  timestamptz
);
CREATE INDEX subscription_attempts_newest ON subscription_attempts (subscription_id, id DESC);

-- The first answer to each Idempotency-Key of a subscription command, replayed on a retry.
CREATE TABLE subscription_requests (
    sender           text        NOT NULL,
    key              text        NOT NULL,
    fingerprint      bytea       NOT NULL,
    status           integer     NOT NULL,
    body             bytea       NOT NULL,
    location         text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sender, key)
);
