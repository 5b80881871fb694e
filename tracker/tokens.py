"""Bearer tokens: issued once, stored only as hashes, revocable."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from tracker.application.principal import INTEGRATION, KINDS, LEADER, Principal

INSERT = """
INSERT INTO api_tokens (id, name, kind, leader_id, token_hash, forum_ids)
VALUES ($1, $2, $3, $4, $5, $6)
"""
SELECT_BY_HASH = """
SELECT id, name, kind, leader_id, forum_ids FROM api_tokens
WHERE token_hash = $1 AND revoked_at IS NULL
"""
SELECT_ALL = """
SELECT id, name, kind, leader_id, created_at, revoked_at, forum_ids FROM api_tokens
ORDER BY created_at
"""
REVOKE = "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL"

PREFIX = "trk_"
# Revocation reaches every server within this many seconds; lookups are cached for as long.
CACHE_SECONDS = 5.0


class TokenInfo(msgspec.Struct, frozen=True):
    """A token as listed: never the secret itself."""

    id: UUID
    name: str
    kind: str
    leader_id: UUID | None
    created_at: datetime
    revoked_at: datetime | None
    forum_ids: list[UUID] | None


def digest(token: str) -> bytes:
    """What is stored: the SHA-256 of the token (tokens are random, so no salt is needed)."""
    return hashlib.sha256(token.encode()).digest()


async def issue(
    db: asyncpg.Pool,
    name: str,
    kind: str,
    leader_id: UUID | None = None,
    forum_ids: list[UUID] | None = None,
) -> str:
    """Create a token and return its secret, which is shown this once."""
    if forum_ids is not None and kind != INTEGRATION:
        raise ValueError("only integration tokens are limited to forums")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    if (kind == LEADER) != (leader_id is not None):
        raise ValueError("a leader token names its leader, and only a leader token does")
    token = PREFIX + secrets.token_urlsafe(32)
    await db.execute(INSERT, uuid.uuid4(), name, kind, leader_id, digest(token), forum_ids)
    return token


async def list_tokens(db: asyncpg.Pool) -> list[TokenInfo]:
    """Every token ever issued, revoked ones included."""
    return [TokenInfo(*r) for r in await db.fetch(SELECT_ALL)]


async def revoke(db: asyncpg.Pool, token_id: UUID) -> bool:
    """Revoke a token; False if it was unknown or already revoked."""
    return await db.execute(REVOKE, token_id) == "UPDATE 1"


class Authenticator:
    """Turn a bearer token into a principal, with a short cache to spare the database."""

    def __init__(self, db: asyncpg.Pool) -> None:
        self.db = db
        self._cache: dict[bytes, tuple[float, Principal | None]] = {}

    async def principal(self, token: str) -> Principal | None:
        """The principal a valid, unrevoked token stands for, or None."""
        key = digest(token)
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        row = await self.db.fetchrow(SELECT_BY_HASH, key)
        found = None
        if row is not None:
            forums = None if row[4] is None else tuple(row[4])
            found = Principal(
                token_id=row[0], name=row[1], kind=row[2], leader_id=row[3], forum_ids=forums
            )
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now + CACHE_SECONDS, found)
        return found
