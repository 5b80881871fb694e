"""How far behind the log the live projections are, cheaply enough for a readiness probe."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from tracker.database import Connection
from tracker.eventstore import Checkpoint
from tracker.eventstore.log import first_unapplied

LIVE_CHECKPOINTS = """
SELECT g.name, g.transaction_id, g.position
FROM projection_generations g JOIN projections p
  ON p.name = g.name AND p.live_generation = g.generation
WHERE g.name = ANY($1::text[])
ORDER BY g.name
"""


async def oldest_unapplied(conn: Connection, names: Collection[str]) -> dict[str, datetime | None]:
    """Each live projection's oldest event not yet applied (None: it is caught up)."""
    rows = await conn.fetch(LIVE_CHECKPOINTS, list(names))
    checkpoints = [Checkpoint(r["transaction_id"], r["position"]) for r in rows]
    firsts = await first_unapplied(conn, checkpoints)
    return {r["name"]: first for r, first in zip(rows, firsts, strict=True)}
