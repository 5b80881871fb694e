"""How far sealing trails the log: the newest seal, and the events no seal covers yet."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from tracker.audit.seals import LEAF_POSITION, latest
from tracker.database import Connection
from tracker.eventstore import START
from tracker.eventstore.log import checkpoint_at, count_after


class Backlog(msgspec.Struct, frozen=True, kw_only=True):
    """The sealed tree's size, when it was last sealed, and the events after it."""

    tree_size: int
    sealed_at: datetime | None
    unsealed: int


async def backlog(db: asyncpg.Pool | Connection) -> Backlog:
    """The newest seal and how many committed events lie after its last leaf."""
    head = await latest(db)
    if head is None:
        return Backlog(tree_size=0, sealed_at=None, unsealed=await count_after(db, START))
    position = await db.fetchval(LEAF_POSITION, head.tree_size - 1)
    after = None if position is None else await checkpoint_at(db, position)
    # A sealed leaf gone from the log is damage that verification reports; count it all.
    unsealed = await count_after(db, after or START)
    return Backlog(tree_size=head.tree_size, sealed_at=head.sealed_at, unsealed=unsealed)
