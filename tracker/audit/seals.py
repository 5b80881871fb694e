"""Seals: signed heads of the Merkle tree over the global log, in the style of RFC 9162 STHs.

Sealing appends the events below the horizon as leaves, stores the subtrees they complete,
and signs the new head, all in one transaction under an advisory lock.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg
import msgspec
from cryptography.exceptions import InvalidSignature

from tracker.application.clock import Now, system_now
from tracker.audit import checkpoint, merkle, tree
from tracker.audit.keys import SigningKey, public_key_of
from tracker.audit.tree import Inclusion, OutsideTree, TreeDamaged, consistency, inclusion, subtree
from tracker.database import MAX_BIGINT, Connection
from tracker.eventstore import START, Checkpoint
from tracker.eventstore.log import checkpoint_at, leaves_after

__all__ = [
    "Inclusion",
    "OutsideTree",
    "Seal",
    "TreeDamaged",
    "consistency",
    "inclusion",
    "seal",
    "signed_message",
    "subtree",
]

# Any constant works; every sealer (serve workers, `tracker audit seal`) must use the same one.
SEAL_LOCK = 7_301_555_115
PAGE = 5000
# Leaves per transaction: a sealing transaction holds the read horizon back for everyone once
# it writes, so a large backlog is sealed in several short transactions instead of one long one.
BATCH = 100_000
MESSAGE_PREFIX = b"commitment-tracker tree head v1\n"
# The checkpoint origin when none is configured (TRACKER_LOG_ORIGIN): it names the log.
DEFAULT_ORIGIN = "commitment-tracker.invalid/log"

LOCK = "SELECT pg_advisory_xact_lock($1)"
TRY_LOCK = "SELECT pg_try_advisory_xact_lock($1)"
LEAF_POSITION = "SELECT position FROM merkle_leaves WHERE leaf_index = $1"
INSERT_SEAL = """
INSERT INTO seals (tree_size, root_hash, sealed_at, key_id, signature, checkpoint)
VALUES ($1, $2, $3, $4, $5, $6)
"""
INSERT_KEY = """
INSERT INTO seal_keys (key_id, public_key) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING
"""
SEAL_COLUMNS = "tree_size, root_hash, sealed_at, key_id, signature"
LATEST = f"SELECT {SEAL_COLUMNS} FROM seals ORDER BY tree_size DESC LIMIT 1"
SEAL_AT = f"SELECT {SEAL_COLUMNS} FROM seals WHERE tree_size = $1"
SEALS_BEFORE = f"""
SELECT {SEAL_COLUMNS} FROM seals WHERE tree_size < $1 ORDER BY tree_size DESC LIMIT $2
"""
PUBLIC_KEY = "SELECT public_key FROM seal_keys WHERE key_id = $1"
CHECKPOINTS_SINCE = """
SELECT checkpoint FROM seals WHERE tree_size >= $1 AND checkpoint IS NOT NULL ORDER BY tree_size
"""


class Seal(msgspec.Struct, frozen=True):
    """A signed tree head: the first tree_size events of the log hash to root_hash."""

    tree_size: int
    root_hash: bytes
    sealed_at: datetime
    key_id: str
    signature: bytes

    @property
    def message(self) -> bytes:
        """What the signature covers."""
        return signed_message(self.tree_size, self.root_hash, self.sealed_at, self.key_id)


def timestamp(moment: datetime) -> str:
    """A seal time as signed: UTC, always six fractional digits, 'Z'."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def signed_message(tree_size: int, root_hash: bytes, sealed_at: datetime, key_id: str) -> bytes:
    """The bytes a seal's Ed25519 signature covers; a verifier rebuilds them exactly so."""
    head = [tree_size, root_hash.hex(), timestamp(sealed_at), key_id]
    return MESSAGE_PREFIX + json.dumps(head, separators=(",", ":")).encode()


def verify_signature(head: Seal, public_raw: bytes) -> bool:
    """Whether the seal was signed by the key whose raw public bytes are given."""
    try:
        public_key_of(public_raw).verify(head.signature, head.message)
    except (InvalidSignature, ValueError):
        return False
    return True


async def seal(
    pool: asyncpg.Pool,
    key: SigningKey,
    *,
    wait: bool = True,
    batch: int = BATCH,
    now: Now = system_now,
    origin: str = DEFAULT_ORIGIN,
) -> Seal | None:
    """Seal every event below the horizon; None if nothing is new or (wait=False) lock is busy."""
    newest = None
    while True:
        async with pool.acquire() as conn, conn.transaction():
            if wait:
                await conn.execute(LOCK, SEAL_LOCK)
            elif not await conn.fetchval(TRY_LOCK, SEAL_LOCK):
                return newest
            grown = await _grow(conn, batch)
            if not grown.leaves:
                return newest
            newest = await _sign(conn, grown, key, now(), origin)
        if len(grown.leaves) < batch:
            return newest


async def _grow(conn: Connection, batch: int) -> tree.Frontier:
    # Everything is read before anything is written: until it writes, this transaction has
    # no id, so it does not hold back the horizon that every reader of the log waits on.
    size = await tree.leaf_count(conn)
    grown = await tree.frontier(conn, size)
    after = await _resume(conn, size)
    while len(grown.leaves) < batch:
        limit = min(PAGE, batch - len(grown.leaves))
        rows = await leaves_after(conn, after, limit)
        for _, position, stream_id, version, recorded_at, hash_ in rows:
            grown.append(position, merkle.leaf(position, stream_id, version, recorded_at, hash_))
        if len(rows) < limit:  # reached the horizon
            break
        after = Checkpoint(rows[-1][0], rows[-1][1])
    return grown


async def grow(conn: Connection, leaves: int) -> tree.Frontier:
    """The stored tree grown by up to this many events of the log, not yet written."""
    return await _grow(conn, leaves)


async def _resume(conn: Connection, size: int) -> Checkpoint:
    """Where the last sealed event sits in the global order."""
    if size == 0:
        return START
    position = await conn.fetchval(LEAF_POSITION, size - 1)
    at = None if position is None else await checkpoint_at(conn, position)
    if at is None:
        raise TreeDamaged(f"the last sealed event (leaf {size - 1}) is gone from the log")
    return at


async def _sign(
    conn: Connection, grown: tree.Frontier, key: SigningKey, sealed_at: datetime, origin: str
) -> Seal:
    head = Seal(grown.size, grown.root(), sealed_at, key.key_id, b"")
    head = msgspec.structs.replace(head, signature=key.sign(head.message))
    note = checkpoint.sign(checkpoint.Checkpoint(origin, head.tree_size, head.root_hash), key)
    await tree.write(conn, grown)
    await conn.execute(INSERT_KEY, key.key_id, key.public_raw)
    await conn.execute(INSERT_SEAL, *msgspec.structs.astuple(head), note)
    return head


async def latest(db: asyncpg.Pool | Connection) -> Seal | None:
    """The newest seal, if any."""
    row = await db.fetchrow(LATEST)
    return None if row is None else Seal(*row)


async def seal_at(db: asyncpg.Pool | Connection, tree_size: int) -> Seal | None:
    """The seal of the tree of exactly tree_size leaves, if one was made."""
    row = await db.fetchrow(SEAL_AT, tree_size)
    return None if row is None else Seal(*row)


async def seals_before(db: asyncpg.Pool | Connection, before: int | None, limit: int) -> list[Seal]:
    """Seals newest first, of trees smaller than before."""
    rows = await db.fetch(SEALS_BEFORE, MAX_BIGINT if before is None else before, limit)
    return [Seal(*r) for r in rows]


async def public_key(db: asyncpg.Pool | Connection, key_id: str) -> bytes | None:
    """The raw public key that signed seals under key_id."""
    raw: bytes | None = await db.fetchval(PUBLIC_KEY, key_id)
    return raw


async def checkpoints_since(db: asyncpg.Pool | Connection, tree_size: int) -> list[str]:
    """The signed checkpoints of seals of at least tree_size events, smallest first."""
    return [r[0] for r in await db.fetch(CHECKPOINTS_SINCE, tree_size)]
