"""Bearer tokens: issued once, stored only as hashes, revocable, optionally expiring."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import uuid
from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import UUID

import asyncpg
import msgspec

from tracker.application.clock import Now, system_now
from tracker.application.principal import INTEGRATION, KINDS, LEADER, Principal
from tracker.throttle import FailureThrottle

INSERT = """
INSERT INTO api_tokens (id, name, kind, leader_id, token_hash, forum_ids, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
SELECT_BY_HASH = """
SELECT id, name, kind, leader_id, forum_ids, expires_at FROM api_tokens
WHERE token_hash = $1 AND revoked_at IS NULL
"""
SELECT_ALL = """
SELECT id, name, kind, leader_id, created_at, revoked_at, forum_ids, expires_at FROM api_tokens
ORDER BY created_at
"""
EXPIRY = "SELECT expires_at FROM api_tokens WHERE id = $1"
REVOKE = "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL"

PREFIX = "trk_"
# Revocation reaches every worker within this many seconds: lookups are cached for as long.
# However busy a worker is, it looks each token up at most twice a second, so the cache still
# spares the database nearly every lookup under load.
CACHE_SECONDS = 0.5
CACHE_ENTRIES = 10_000
DURATION = re.compile(r"(\d{1,9})([smhd])")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class TokenInfo(msgspec.Struct, frozen=True):
    """A token as listed: never the secret itself."""

    id: UUID
    name: str
    kind: str
    leader_id: UUID | None
    created_at: datetime
    revoked_at: datetime | None
    forum_ids: list[UUID] | None
    expires_at: datetime | None = None

    def state(self, now: datetime) -> str:
        """Active, revoked or expired."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if expired(self.expires_at, now) else "active"


def digest(token: str) -> bytes:
    """What is stored: the SHA-256 of the token (tokens are random, so no salt is needed)."""
    return hashlib.sha256(token.encode()).digest()


def duration(text: str) -> timedelta:
    """A lifetime such as `30d`, `12h`, `90m` or `3600s`; ValueError for anything else."""
    match = DURATION.fullmatch(text.strip())
    if match is None or int(match[1]) == 0:
        raise ValueError(f"{text!r} is not a duration such as 30d, 12h, 90m or 3600s")
    return timedelta(seconds=int(match[1]) * UNIT_SECONDS[match[2]])


def expired(expires_at: datetime | None, now: datetime) -> bool:
    """Whether a token with this expiry is past it (judged by the application's clock)."""
    return expires_at is not None and now >= expires_at


async def issue(
    db: asyncpg.Pool,
    name: str,
    kind: str,
    leader_id: UUID | None = None,
    forum_ids: list[UUID] | None = None,
    expires_at: datetime | None = None,
) -> str:
    """Create a token and return its secret, which is shown this once."""
    if forum_ids is not None and kind != INTEGRATION:
        raise ValueError("only integration tokens are limited to forums")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    if (kind == LEADER) != (leader_id is not None):
        raise ValueError("a leader token names its leader, and only a leader token does")
    token = PREFIX + secrets.token_urlsafe(32)
    await db.execute(
        INSERT, uuid.uuid4(), name, kind, leader_id, digest(token), forum_ids, expires_at
    )
    return token


async def list_tokens(db: asyncpg.Pool) -> list[TokenInfo]:
    """Every token ever issued, revoked ones included."""
    return [TokenInfo(*r) for r in await db.fetch(SELECT_ALL)]


async def expiry(db: asyncpg.Pool, token_id: UUID) -> datetime | None:
    """When a token stops working; None if it never does."""
    expires_at: datetime | None = await db.fetchval(EXPIRY, token_id)
    return expires_at


async def revoke(db: asyncpg.Pool, token_id: UUID) -> bool:
    """Revoke a token; False if it was unknown or already revoked."""
    return await db.execute(REVOKE, token_id) == "UPDATE 1"


class Lookup(NamedTuple):
    """A token's principal (None if it is not valid now), and whether it came from the database
    just now rather than from the cache."""

    principal: Principal | None
    fresh: bool


class Authenticator:
    """Turn a bearer token into a principal, with a short cache to spare the database."""

    def __init__(self, db: asyncpg.Pool, now: Now = system_now) -> None:
        self.db = db
        self.now = now
        self.throttle = FailureThrottle(now)
        self._cache: dict[bytes, tuple[float, Principal | None, datetime | None]] = {}

    async def lookup(self, token: str) -> Lookup:
        """The principal a valid, unrevoked, unexpired token stands for (or None), from the
        cache if the token was looked up less than CACHE_SECONDS ago."""
        key = digest(token)
        moment = time.monotonic()
        cached = self._cache.get(key)
        fresh = cached is None or cached[0] <= moment
        if cached is None or fresh:
            cached = await self._fetch(key, moment)
        _, principal, expires_at = cached
        # Judged on every request, so a cached token stops working the moment it expires.
        if expired(expires_at, self.now()):
            principal = None
        return Lookup(principal, fresh)

    async def _fetch(
        self, key: bytes, moment: float
    ) -> tuple[float, Principal | None, datetime | None]:
        row = await self.db.fetchrow(SELECT_BY_HASH, key)
        principal, expires_at = None, None
        if row is not None:
            forums = None if row[4] is None else tuple(row[4])
            principal = Principal(
                token_id=row[0], name=row[1], kind=row[2], leader_id=row[3], forum_ids=forums
            )
            expires_at = row[5]
        found = (moment + CACHE_SECONDS, principal, expires_at)
        # Only valid tokens are kept, so that a flood of bad ones cannot push them out.
        if principal is not None:
            if len(self._cache) >= CACHE_ENTRIES:
                self._cache.clear()
            self._cache[key] = found
        return found
