"""One log line per request, and the correlation id the request's events carry."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.types import ASGIApp, Receive, Send

from tracker.application.principal import Principal

log = logging.getLogger("tracker.request")
HEADER = b"x-correlation-id"
# W3C trace context: version-traceid-parentid-flags; the 128-bit trace id is a UUID's size.
TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")


def log_requests(app: Litestar) -> None:
    """Wrap the app's handler, outside routing, so every request is logged, 404s too."""
    app.asgi_handler = _wrapped(app.asgi_handler)


def correlation_id(scope: Any) -> UUID:
    """The request's correlation id, chosen before it was routed."""
    found: UUID = scope["state"]["correlation_id"]
    return found


def _wrapped(inner: ASGIApp) -> ASGIApp:
    async def handler(scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        started, method = time.perf_counter(), scope["method"]
        correlation = _chosen(scope["headers"])
        scope["state"]["correlation_id"] = correlation
        echoed = (HEADER, str(correlation).encode())
        status = 500

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), echoed]}
            await send(message)

        try:
            await inner(scope, receive, sending)
        finally:
            _log(scope, method, status, time.perf_counter() - started, correlation)

    return handler


def _chosen(headers: list[tuple[bytes, bytes]]) -> UUID:
    """The caller's X-Correlation-Id or trace id, if it is one; otherwise a new one."""
    given = {name: value for name, value in headers if name in (HEADER, b"traceparent")}
    try:
        if HEADER in given:
            return UUID(given[HEADER].decode("latin-1"))
        trace = TRACEPARENT.fullmatch(given.get(b"traceparent", b"").decode("latin-1").strip())
        if trace and trace.group(1).strip("0"):
            return UUID(hex=trace.group(1))
    except ValueError:
        pass  # a malformed X-Correlation-Id is refused on commands (400), and logged under a new id
    return uuid.uuid4()


def _log(scope: Any, method: str, status: int, seconds: float, correlation: UUID) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    principal: Principal | None = scope["state"].get("principal")
    route = scope.get("path_template") or "(unrouted)"
    duration_ms = round(seconds * 1000, 2)
    log.info(
        "%s %s %s %.1f ms %s %s",
        method,
        route,
        status,
        duration_ms,
        "-" if principal is None else principal.actor,
        correlation,
        extra={
            "method": method,
            "route": route,
            "path": scope["path"],
            "status": status,
            "duration_ms": duration_ms,
            "principal": None if principal is None else principal.actor,
            "token_id": None if principal is None else str(principal.token_id),
            "correlation_id": str(correlation),
        },
    )
