"""The access log: every request an auditor token makes, recorded before it is served."""

from __future__ import annotations

import asyncpg

from tracker.application.principal import Principal
from tracker.database import Connection

INSERT = """
INSERT INTO access_log (token_id, token_name, kind, method, path, query)
VALUES ($1, $2, $3, $4, $5, $6)
"""
MAX_QUERY = 4000


async def log_access(
    db: asyncpg.Pool | Connection, principal: Principal, method: str, path: str, query: str
) -> None:
    """Record who (token id and name) asked for what (method, path, query) and when."""
    await db.execute(
        INSERT, principal.token_id, principal.name, principal.kind, method, path, query[:MAX_QUERY]
    )
