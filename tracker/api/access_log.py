"""Auditors' requests go to the access log before they are served."""

from __future__ import annotations

from typing import Any

from litestar import Request

from tracker.application.principal import AUDITOR, Principal
from tracker.audit.access_log import log_access


async def log_auditor_access(request: Request[Any, Any, Any], principal: Principal) -> None:
    """Log the request if the caller is an auditor; others pass untouched."""
    if principal.kind == AUDITOR:
        url = request.url
        await log_access(request.app.state.pool, principal, request.method, url.path, url.query)
