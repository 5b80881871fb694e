"""The access log: every request an auditor token makes, recorded before it is served."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request

from tracker.application.principal import AUDITOR, Principal
from tracker.database import Connection

INSERT = """
INSERT INTO access_log (token_id, token_name, kind, method, path, query)
VALUES ($1, $2, $3, $4, $5, $6)
"""
MAX_QUERY = 4000


async def log_access(
    pool: asyncpg.Pool | Connection, principal: Principal, request: Request[Any, Any, Any]
) -> None:
    """Record who (token id and name) asked for what (method, path, query) and when."""
    await pool.execute(
        INSERT,
        principal.token_id,
        principal.name,
        principal.kind,
        request.method,
        request.url.path,
        request.url.query[:MAX_QUERY],
    )


async def log_auditor_access(request: Request[Any, Any, Any], principal: Principal) -> None:
    """Log the request if the caller is an auditor; others pass untouched."""
    if principal.kind == AUDITOR:
        await log_access(request.app.state.pool, principal, request)
