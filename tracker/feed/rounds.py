"""What a round of the deliverer commits for its subscriptions' new batches: every cursor, the
deliveries parked for a retry, and the delivery log's attempts, in one transaction of one
statement each (not one of each per subscription)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from tracker.database import Connection
from tracker.eventstore import Checkpoint
from tracker.feed.store import Attempt, Queued


class Settlement(msgspec.Struct, frozen=True, kw_only=True):
    """One subscription's batch, delivered: where its cursor goes, and what it came to."""

    subscription_id: UUID
    cursor: Checkpoint
    parked: list[Queued]
    attempts: list[Attempt]
    succeeded_at: datetime | None
    failed: bool
    now: datetime


ADVANCE = """
UPDATE subscriptions s SET transaction_id = x.t, position = x.p,
    last_success_at = coalesce(x.ok, s.last_success_at),
    failing_since = CASE WHEN x.ok IS NOT NULL AND NOT x.f THEN NULL
                         ELSE coalesce(s.failing_since, x.fs) END
FROM unnest($1::uuid[], $2::xid8[], $3::bigint[], $4::timestamptz[], $5::bool[],
            $6::timestamptz[]) AS x(id, t, p, ok, f, fs)
WHERE s.id = x.id
"""
# Rows of subscriptions deleted while their batch was out are dropped rather than failing the
# round for every subscription; the log keeps the order of the attempts.
PARK = """
INSERT INTO subscription_queue (subscription_id, transaction_id, position, stream_id, attempts,
    first_failed_at, next_attempt_at, last_status, last_error)
SELECT x.i, t, p, st, a, f, n, c, e
FROM unnest($1::uuid[], $2::xid8[], $3::bigint[], $4::uuid[], $5::int[], $6::timestamptz[],
            $7::timestamptz[], $8::int[], $9::text[]) AS x(i, t, p, st, a, f, n, c, e)
WHERE EXISTS (SELECT FROM subscriptions s WHERE s.id = x.i)
ON CONFLICT DO NOTHING
"""
LOG = """
INSERT INTO subscription_attempts (subscription_id, webhook_id, position, attempt, attempted_at,
    status_code, duration_ms, error, next_attempt_at)
SELECT x.i, w, p, a, t, c, d, e, n
FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::int[], $5::timestamptz[], $6::int[],
            $7::float8[], $8::text[], $9::timestamptz[])
    WITH ORDINALITY AS x(i, w, p, a, t, c, d, e, n, o)
WHERE EXISTS (SELECT FROM subscriptions s WHERE s.id = x.i)
ORDER BY o
"""


async def commit(conn: Connection, settlements: Sequence[Settlement]) -> None:
    """Commit a round's batches (in the caller's transaction)."""
    await conn.execute(
        ADVANCE,
        [s.subscription_id for s in settlements],
        [s.cursor.transaction_id for s in settlements],
        [s.cursor.position for s in settlements],
        [s.succeeded_at for s in settlements],
        [s.failed for s in settlements],
        [s.now if s.failed else None for s in settlements],
    )
    await _park(conn, [(s.subscription_id, q) for s in settlements for q in s.parked])
    await _log(conn, [(s.subscription_id, a) for s in settlements for a in s.attempts])


async def _park(conn: Connection, rows: Sequence[tuple[UUID, Queued]]) -> None:
    if rows:
        await conn.execute(
            PARK,
            [i for i, _ in rows],
            [q.transaction_id for _, q in rows],
            [q.position for _, q in rows],
            [q.stream_id for _, q in rows],
            [q.attempts for _, q in rows],
            [q.first_failed_at for _, q in rows],
            [q.next_attempt_at for _, q in rows],
            [q.last_status for _, q in rows],
            [q.last_error for _, q in rows],
        )


async def _log(conn: Connection, rows: Sequence[tuple[UUID, Attempt]]) -> None:
    if rows:
        await conn.execute(
            LOG,
            [i for i, _ in rows],
            [a.webhook_id for _, a in rows],
            [a.position for _, a in rows],
            [a.attempt for _, a in rows],
            [a.attempted_at for _, a in rows],
            [a.status_code for _, a in rows],
            [a.duration_ms for _, a in rows],
            [a.error for _, a in rows],
            [a.next_attempt_at for _, a in rows],
        )
