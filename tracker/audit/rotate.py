"""`tracker audit rotate-key`: a new signing key, vouched for by the key it replaces."""

from __future__ import annotations

import asyncio
import os
from datetime import datetime
from pathlib import Path

import asyncpg

from tracker.audit.keys import KEY_FILE, SigningKey, load, signing_key
from tracker.audit.seals import INSERT_KEY
from tracker.audit.trust import Rotation, rotation

INSERT_ROTATION = """
INSERT INTO seal_key_rotations (key_id, public_key, previous_key_id, rotated_at, signature)
VALUES ($1, $2, $3, $4, $5)
"""
ROTATIONS = """
SELECT key_id, public_key, previous_key_id, rotated_at, signature
FROM seal_key_rotations ORDER BY rotated_at
"""


async def rotations(db: asyncpg.Pool | asyncpg.Connection) -> list[Rotation]:
    """Every rotation statement, oldest first."""
    return [Rotation(*r) for r in await db.fetch(ROTATIONS)]


async def rotate_key(
    pool: asyncpg.Pool, data_dir: Path, key_file: Path | None, now: datetime
) -> tuple[SigningKey, SigningKey, Rotation]:
    """Replace the signing key: the old one signs a statement introducing the new one, the
    statement is stored, and the new key takes the old one's file (the old is kept beside it)."""
    path = key_file if key_file is not None else data_dir / KEY_FILE
    old = await asyncio.to_thread(signing_key, data_dir, key_file)
    new = SigningKey.generate()
    statement = rotation(old, new.public_raw, now)
    staged = path.with_name(f".{path.name}.{new.key_id}.new")
    await asyncio.to_thread(_write_private, staged, new.private_pem())
    try:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(INSERT_KEY, old.key_id, old.public_raw)
            await conn.execute(INSERT_ROTATION, *_row(statement))
            # The file is swapped inside the transaction: if that fails, no statement is stored.
            await asyncio.to_thread(_swap, path, staged, old.key_id)
    finally:
        staged.unlink(missing_ok=True)
    return old, await asyncio.to_thread(load, path), statement


def _row(r: Rotation) -> tuple[object, ...]:
    return (r.key_id, r.public_key, r.previous_key_id, r.rotated_at, r.signature)


def _write_private(path: Path, pem: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)


def _swap(path: Path, staged: Path, old_key_id: str) -> None:
    """Keep the old key as <name>.<key id>.retired, then move the new one into place."""
    retired = path.with_name(f"{path.name}.{old_key_id}.retired")
    os.link(path, retired)
    os.replace(staged, path)
