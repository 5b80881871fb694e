"""Put a log's seals back after an import: the tree is grown to each seal's size and the
original signed head stored again, once the restored log is shown to hash to it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

import asyncpg
import msgspec

from tracker.audit import merkle, seals, tree
from tracker.audit.importer import ImportRefused, import_log, read, refuse_if_in_use
from tracker.audit.keys import key_id_of
from tracker.audit.seals import INSERT_KEY, LOCK, SEAL_LOCK, Seal, verify_signature
from tracker.audit.trust import load_pinned
from tracker.audit.verify import Roots
from tracker.audit.verify_heads import load_heads

INSERT_SEAL = """
INSERT INTO seals (tree_size, root_hash, sealed_at, key_id, signature) VALUES ($1, $2, $3, $4, $5)
"""


async def restore_seals(pool: asyncpg.Pool, heads: Sequence[Seal], keys: dict[str, bytes]) -> int:
    """Store each head again as a seal, smallest first; refused (nothing of that head
    written) when the log does not hash to it or its signature does not verify."""
    restored = 0
    for head in sorted(heads, key=lambda h: h.tree_size):
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(LOCK, SEAL_LOCK)
            size = await tree.leaf_count(conn)
            if head.tree_size < size:
                raise ImportRefused(
                    f"seal of size {head.tree_size} comes after the tree reached {size} leaves"
                )
            _signed(head, keys)
            grown = await seals.grow(conn, head.tree_size - size)
            if grown.size != head.tree_size or grown.root() != head.root_hash:
                raise ImportRefused(
                    f"the imported log does not hash to the seal of size {head.tree_size}"
                )
            await tree.write(conn, grown)
            await conn.execute(INSERT_KEY, head.key_id, keys[head.key_id])
            await conn.execute(INSERT_SEAL, *msgspec.structs.astuple(head))
            restored += 1
    return restored


def _signed(head: Seal, keys: dict[str, bytes]) -> None:
    public = keys.get(head.key_id)
    if public is None:
        raise ImportRefused(
            f"no public key given for key {head.key_id} (seal of size {head.tree_size})"
        )
    if not verify_signature(head, public):
        raise ImportRefused(f"the seal of size {head.tree_size} is not signed by key {head.key_id}")


def check_against_export(path: Path, heads: Sequence[Seal], keys: dict[str, bytes]) -> None:
    """Refuse, before anything is written, seals the export does not hash to or that their
    keys did not sign: one pass over the file, the tree head taken at each seal's size."""
    pending = sorted(heads, key=lambda h: h.tree_size)
    roots = Roots()
    for e in read(path):
        if not pending:
            break
        leaf = merkle.leaf(e.position, e.stream_id, e.version, e.recorded_at, bytes.fromhex(e.hash))
        roots.extend([leaf])
        while pending and pending[0].tree_size == roots.size:
            head = pending.pop(0)
            _signed(head, keys)
            if roots.root() != head.root_hash:
                raise ImportRefused(
                    f"the export does not hash to the seal of size {head.tree_size}"
                )
    if pending:
        raise ImportRefused(f"the seal of size {pending[0].tree_size} covers more than the export")


async def restore_command(pool: asyncpg.Pool, path: Path, seals_file: Path, keys_file: Path) -> int:
    """`tracker audit import FILE --seals S --public-key K`: the log, then its seals."""
    try:
        saved = await asyncio.to_thread(load_heads, seals_file)
        heads = [h for h in saved if isinstance(h, Seal)]
        keys = {key_id_of(k): k for k in await asyncio.to_thread(load_pinned, keys_file)}
        await asyncio.to_thread(check_against_export, path, heads, keys)
        async with pool.acquire() as conn:
            await refuse_if_in_use(conn)
        count = await import_log(pool, path)
        restored = await restore_seals(pool, heads, keys)
    except (ImportRefused, OSError, ValueError, KeyError, msgspec.DecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"imported {count:,} events and restored {restored:,} seals")
    return 0
