"""The subscriptions' tables: the subscriptions, their retry queue and their delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from tracker.application.principal import Principal
from tracker.application.subscriptions import Filter
from tracker.database import Connection
from tracker.eventstore import Checkpoint

Executor = asyncpg.Pool | Connection
ACTIVE, PAUSED = "active", "paused"


class Subscription(msgspec.Struct, frozen=True, kw_only=True):
    """A subscription as stored (its secrets included: never an API answer as it is)."""

    id: UUID
    owner: str
    principal: Principal
    target_url: str
    filter: Filter
    description: str
    secret: str
    previous_secret: str | None
    previous_until: datetime | None
    version: int
    status: str
    paused_reason: str | None
    cursor: Checkpoint
    created_at: datetime
    last_success_at: datetime | None
    failing_since: datetime | None

    def keys(self, now: datetime) -> list[str]:
        """The secrets that sign now: the current one, and the previous during its grace."""
        valid = self.previous_until is not None and now < self.previous_until
        return [self.secret, *([self.previous_secret] if valid and self.previous_secret else [])]


class Queued(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery waiting on a retry, or a dead letter."""

    position: int
    transaction_id: int
    stream_id: UUID
    attempts: int
    first_failed_at: datetime | None
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    dead_at: datetime | None


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    """One attempt at one delivery, as the delivery log keeps it."""

    webhook_id: str
    position: int
    attempt: int
    attempted_at: datetime
    status_code: int | None
    duration_ms: float
    error: str | None
    next_attempt_at: datetime | None


COLUMNS = """id, owner, principal, target_url, filter, description, secret, previous_secret,
previous_until, version, status, paused_reason, transaction_id, position, created_at,
last_success_at, failing_since"""
INSERT = f"""
INSERT INTO subscriptions (id, owner, principal, target_url, filter, description, secret,
    transaction_id, position, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::xid8, $9, $10)
RETURNING {COLUMNS}
"""
ONE = f"SELECT {COLUMNS} FROM subscriptions WHERE id = $1"
OWNED = f"""
SELECT {COLUMNS} FROM subscriptions WHERE ($1::text IS NULL OR owner = $1) ORDER BY created_at, id
"""
# Active, and its creator can still read through the API: the creating token (for a leader,
# any token of theirs) is neither revoked nor expired.
RUNNABLE = f"""
SELECT {COLUMNS} FROM subscriptions s
WHERE status = 'active' AND EXISTS (
    SELECT FROM api_tokens t
    WHERE (t.id = (s.principal->>'token_id')::uuid
           OR (t.kind = 'leader' AND t.leader_id = (s.principal->>'leader_id')::uuid))
      AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $1))
ORDER BY id
"""
DELETE = "DELETE FROM subscriptions WHERE id = $1"
SET_STATUS = f"""
UPDATE subscriptions SET status = $2, paused_reason = $3, version = version + 1,
    failing_since = CASE WHEN $2 = 'active' THEN NULL ELSE failing_since END
WHERE id = $1 RETURNING {COLUMNS}
"""
ROTATE = f"""
UPDATE subscriptions SET previous_secret = secret, previous_until = $3, secret = $2,
    version = version + 1
WHERE id = $1 RETURNING {COLUMNS}
"""
SUCCEEDED = """
UPDATE subscriptions SET last_success_at = $2, failing_since = NULL WHERE id = $1
"""
FAILING = """
UPDATE subscriptions SET failing_since = coalesce(failing_since, $2) WHERE id = $1
"""
HELD_STREAMS = """
SELECT DISTINCT stream_id FROM subscription_queue WHERE subscription_id = $1 AND dead_at IS NULL
"""
QUEUE_COLUMNS = """position, transaction_id, stream_id, attempts, first_failed_at,
next_attempt_at, last_status, last_error, dead_at"""
# The head of each stream's queue (its oldest live entry), if it is due.
DUE_HEADS = f"""
SELECT {QUEUE_COLUMNS} FROM (
    SELECT DISTINCT ON (stream_id) * FROM subscription_queue
    WHERE subscription_id = $1 AND dead_at IS NULL
    ORDER BY stream_id, transaction_id, position
) heads WHERE next_attempt_at <= $2 ORDER BY transaction_id, position LIMIT $3
"""
STREAM_QUEUE = f"""
SELECT {QUEUE_COLUMNS} FROM subscription_queue
WHERE subscription_id = $1 AND stream_id = $2 AND dead_at IS NULL
ORDER BY transaction_id, position LIMIT $3
"""
STREAMS_QUEUE = f"""
SELECT {QUEUE_COLUMNS} FROM subscription_queue
WHERE subscription_id = $1 AND stream_id = ANY($2::uuid[]) AND dead_at IS NULL
ORDER BY transaction_id, position LIMIT $3
"""
WAKE = """
UPDATE subscription_queue SET next_attempt_at = $2
WHERE subscription_id = $1 AND dead_at IS NULL AND next_attempt_at > $2
"""
DELIVERED = """
DELETE FROM subscription_queue WHERE subscription_id = $1 AND position = ANY($2::bigint[])
"""
RESCHEDULE = """
UPDATE subscription_queue SET attempts = attempts + 1,
    first_failed_at = coalesce(first_failed_at, $3), next_attempt_at = $4, last_status = $5,
    last_error = $6, dead_at = $7
WHERE subscription_id = $1 AND position = $2
"""
DEAD = f"""
SELECT {QUEUE_COLUMNS} FROM subscription_queue
WHERE subscription_id = $1 AND dead_at IS NOT NULL ORDER BY transaction_id, position LIMIT $2
"""
REDELIVER = """
UPDATE subscription_queue SET dead_at = NULL, attempts = 0, first_failed_at = NULL,
    next_attempt_at = $2
WHERE subscription_id = $1 AND dead_at IS NOT NULL
  AND ($3::bigint[] IS NULL OR position = ANY($3::bigint[]))
"""
COUNTS = """
SELECT count(*) FILTER (WHERE dead_at IS NULL), count(*) FILTER (WHERE dead_at IS NOT NULL),
       min(next_attempt_at) FILTER (WHERE dead_at IS NULL)
FROM subscription_queue WHERE subscription_id = $1
"""
LOG = """
INSERT INTO subscription_attempts (subscription_id, webhook_id, position, attempt, attempted_at,
    status_code, duration_ms, error, next_attempt_at)
SELECT $1, w, p, a, t, s, d, e, n
FROM unnest($2::text[], $3::bigint[], $4::int[], $5::timestamptz[], $6::int[],
            $7::float8[], $8::text[], $9::timestamptz[]) AS x(w, p, a, t, s, d, e, n)
"""
ATTEMPTS = """
SELECT id, webhook_id, position, attempt, attempted_at, status_code, duration_ms, error,
       next_attempt_at
FROM subscription_attempts WHERE subscription_id = $1 AND ($2::bigint IS NULL OR id < $2)
ORDER BY id DESC LIMIT $3
"""
# The log keeps the newest attempts of each subscription.
PRUNE = """
DELETE FROM subscription_attempts WHERE subscription_id = $1 AND id <= (
    SELECT id FROM subscription_attempts WHERE subscription_id = $1
    ORDER BY id DESC OFFSET $2 LIMIT 1)
"""
PAUSED_OF = """
SELECT count(*), count(*) FILTER (WHERE status = 'paused'),
       count(*) FILTER (WHERE status = 'paused' AND paused_reason = 'failing')
FROM subscriptions WHERE owner = $1
"""

STATE = """
SELECT (SELECT count(*) FROM subscriptions WHERE status = 'active'),
       (SELECT count(*) FROM subscriptions WHERE status = 'paused'),
       (SELECT count(*) FROM subscription_queue WHERE dead_at IS NULL),
       (SELECT count(*) FROM subscription_queue WHERE dead_at IS NOT NULL)
"""

REPLY = """
SELECT fingerprint, status, body, location FROM subscription_requests WHERE sender = $1 AND key = $2
"""
REMEMBER = """
INSERT INTO subscription_requests (sender, key, fingerprint, status, body, location)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING
"""


class Reply(msgspec.Struct, frozen=True):
    """The first answer to a request with an Idempotency-Key."""

    fingerprint: bytes
    status: int
    body: bytes
    location: str | None


def _subscription(row: asyncpg.Record) -> Subscription:
    fields: dict[str, Any] = dict(row)
    fields["principal"] = msgspec.convert(row["principal"], Principal)
    fields["filter"] = msgspec.convert(row["filter"], Filter)
    fields["cursor"] = Checkpoint(fields.pop("transaction_id"), fields.pop("position"))
    return Subscription(**fields)


def _queued(row: asyncpg.Record) -> Queued:
    return Queued(**dict(zip(Queued.__struct_fields__, row, strict=True)))


async def create(
    db: Executor,
    subscription_id: UUID,
    owned_by: str,
    principal: Principal,
    target_url: str,
    only: Filter,
    description: str,
    secret: str,
    start: Checkpoint,
    now: datetime,
) -> Subscription:
    """Store a new subscription, reading the log from `start`."""
    row = await db.fetchrow(
        INSERT,
        subscription_id,
        owned_by,
        msgspec.to_builtins(principal),
        target_url,
        msgspec.to_builtins(only),
        description,
        secret,
        start.transaction_id,
        start.position,
        now,
    )
    assert row is not None
    return _subscription(row)


async def one(db: Executor, subscription_id: UUID) -> Subscription | None:
    """One subscription, if it exists."""
    row = await db.fetchrow(ONE, subscription_id)
    return None if row is None else _subscription(row)


async def owned(db: Executor, owned_by: str | None) -> list[Subscription]:
    """An owner's subscriptions (everyone's for None), oldest first."""
    return [_subscription(r) for r in await db.fetch(OWNED, owned_by)]


async def runnable(db: Executor, now: datetime) -> list[Subscription]:
    """The active subscriptions whose creators may still read, which the deliverer serves."""
    return [_subscription(r) for r in await db.fetch(RUNNABLE, now)]


async def delete(db: Executor, subscription_id: UUID) -> None:
    """Remove a subscription, its queue and its log."""
    await db.execute(DELETE, subscription_id)


async def set_status(
    db: Executor, subscription_id: UUID, status: str, reason: str | None
) -> Subscription | None:
    """Pause (with a reason) or resume."""
    row = await db.fetchrow(SET_STATUS, subscription_id, status, reason)
    return None if row is None else _subscription(row)


async def rotate(
    db: Executor, subscription_id: UUID, secret: str, previous_until: datetime
) -> Subscription | None:
    """A new secret; the old one still signs until previous_until."""
    row = await db.fetchrow(ROTATE, subscription_id, secret, previous_until)
    return None if row is None else _subscription(row)


async def held_streams(db: Executor, subscription_id: UUID) -> set[UUID]:
    """The streams with a delivery waiting on a retry: their later events queue behind it."""
    return {r[0] for r in await db.fetch(HELD_STREAMS, subscription_id)}


async def log_attempts(db: Executor, subscription_id: UUID, attempts: Sequence[Attempt]) -> None:
    """Append attempts to the delivery log."""
    if not attempts:
        return
    await db.execute(
        LOG,
        subscription_id,
        [a.webhook_id for a in attempts],
        [a.position for a in attempts],
        [a.attempt for a in attempts],
        [a.attempted_at for a in attempts],
        [a.status_code for a in attempts],
        [a.duration_ms for a in attempts],
        [a.error for a in attempts],
        [a.next_attempt_at for a in attempts],
    )


async def due_heads(db: Executor, subscription_id: UUID, now: datetime, limit: int) -> list[Queued]:
    """The oldest waiting delivery of each stream, where its retry is due."""
    return [_queued(r) for r in await db.fetch(DUE_HEADS, subscription_id, now, limit)]


async def stream_queue(
    db: Executor, subscription_id: UUID, stream_id: UUID, limit: int
) -> list[Queued]:
    """The oldest waiting deliveries of one stream, in order."""
    return [_queued(r) for r in await db.fetch(STREAM_QUEUE, subscription_id, stream_id, limit)]


async def streams_queue(
    db: Executor, subscription_id: UUID, stream_ids: Sequence[UUID], limit: int
) -> list[Queued]:
    """The oldest waiting deliveries of some streams, in order (each stream's oldest first)."""
    rows = await db.fetch(STREAMS_QUEUE, subscription_id, list(stream_ids), limit)
    return [_queued(r) for r in rows]


async def settle(
    db: Executor,
    subscription_id: UUID,
    positions: Sequence[int],
    answered: Sequence[Attempt],
    now: datetime,
) -> None:
    """Queued deliveries that went through (or whose event is gone), with their attempts."""
    if not positions:
        return
    async with _transaction(db) as conn:
        await conn.execute(DELIVERED, subscription_id, list(positions))
        await log_attempts(conn, subscription_id, answered)
        if answered:
            await conn.execute(SUCCEEDED, subscription_id, now)


async def wake(db: Executor, subscription_id: UUID, now: datetime) -> None:
    """Make every waiting delivery of a subscription due now: its target answers again."""
    await db.execute(WAKE, subscription_id, now)


async def reschedule(
    db: Executor,
    subscription_id: UUID,
    queued: Queued,
    now: datetime,
    next_at: datetime,
    status: int | None,
    error: str | None,
    dead: bool,
) -> None:
    """A queued delivery failed again: its next attempt, or the dead-letter list."""
    async with _transaction(db) as conn:
        await conn.execute(
            RESCHEDULE,
            subscription_id,
            queued.position,
            now,
            next_at,
            status,
            error,
            now if dead else None,
        )
        await conn.execute(FAILING, subscription_id, now)


async def dead_letters(db: Executor, subscription_id: UUID, limit: int) -> list[Queued]:
    """The subscription's dead letters, oldest first."""
    return [_queued(r) for r in await db.fetch(DEAD, subscription_id, limit)]


async def redeliver(
    db: Executor, subscription_id: UUID, positions: Sequence[int] | None, now: datetime
) -> int:
    """Put dead letters back in the queue, due now; how many."""
    status = await db.execute(
        REDELIVER, subscription_id, now, None if positions is None else list(positions)
    )
    return int(status.split()[-1])


async def queue_counts(db: Executor, subscription_id: UUID) -> tuple[int, int, datetime | None]:
    """Deliveries waiting on a retry, dead letters, and when the next retry is due."""
    row = await db.fetchrow(COUNTS, subscription_id)
    assert row is not None
    return int(row[0]), int(row[1]), row[2]


async def attempts(
    db: Executor, subscription_id: UUID, before: int | None, limit: int
) -> tuple[list[Attempt], int | None]:
    """The newest attempts before an attempt id, and the id to continue before."""
    rows = await db.fetch(ATTEMPTS, subscription_id, before, limit + 1)
    page = [Attempt(**{k: v for k, v in r.items() if k != "id"}) for r in rows[:limit]]
    return page, (int(rows[limit - 1]["id"]) if len(rows) > limit else None)


async def prune(db: Executor, subscription_id: UUID, keep: int) -> None:
    """Keep only the newest attempts of a subscription's log."""
    await db.execute(PRUNE, subscription_id, keep)


async def paused_count(db: Executor, owned_by: str) -> tuple[int, int, int]:
    """An owner's subscriptions: how many, how many paused, how many paused by failures."""
    row = await db.fetchrow(PAUSED_OF, owned_by)
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def retry_delay(attempts: int, jitter: float) -> timedelta:
    """Exponential backoff: 5 s doubling to an hour at most, spread by jitter in [0, 1)."""
    base = min(5.0 * 2**attempts, 3600.0)
    return timedelta(seconds=base * (0.75 + 0.5 * jitter))


class _transaction:
    """A transaction on a connection taken from a pool, or on the connection given."""

    def __init__(self, db: Executor) -> None:
        self.db = db
        self._acquired: Any = None
        self._tx: Any = None

    async def __aenter__(self) -> Connection:
        if isinstance(self.db, asyncpg.Pool):
            self._acquired = self.db.acquire()
            conn = await self._acquired.__aenter__()
        else:
            conn = self.db
        self._tx = conn.transaction()
        await self._tx.__aenter__()
        return conn  # type: ignore[no-any-return]

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self._tx.__aexit__(*exc)
        finally:
            if self._acquired is not None:
                await self._acquired.__aexit__(*exc)


async def feed_state(db: Executor) -> tuple[int, int, int, int]:
    """Active and paused subscriptions, deliveries waiting on a retry, and dead letters."""
    row = await db.fetchrow(STATE)
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


async def reply(db: Executor, sender: str, key: str) -> Reply | None:
    """The answer a sender's key was first given, if any."""
    row = await db.fetchrow(REPLY, sender, key)
    return None if row is None else Reply(*row)


async def remember(db: Executor, sender: str, key: str, answer: Reply) -> None:
    """Keep the first answer to a key."""
    await db.execute(
        REMEMBER, sender, key, answer.fingerprint, answer.status, answer.body, answer.location
    )
