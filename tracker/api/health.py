"""GET /health/live (is the process up), GET /health/ready and GET /health (may it take traffic).

Readiness is public so that load balancers and probes can use it; the database's own error
messages and the names of the migrations are shown only to a caller with a valid token.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.datastructures import State

from projections.registry import projection_names
from tracker.api.resources.common import problem_response
from tracker.readiness import Check, Readiness, readiness

REFUSED_TOKEN = {401: problem_response("A token was sent, and it is unknown, revoked or expired")}
READY_DESCRIPTION = (
    "200 when every check passes, 503 otherwise; `failed` names the checks that did not pass "
    "and each check's `reason` says why. `database`: a connection within 2 s; `writable`: a "
    "committed write to a heartbeat row; `migrations`: every file in `migrations/` applied; "
    "`projections`: no live projection's oldest unapplied event older than "
    "`TRACKER_READY_MAX_LAG_SECONDS`. With a valid token of any kind, also each failure's "
    "`error` from the database and the applied and pending migrations."
)


class Liveness(msgspec.Struct, frozen=True):
    """The process answers: its event loop runs."""

    status: str


class DatabaseHealth(msgspec.Struct, frozen=True):
    """Database reachability."""

    reachable: bool


class MigrationsHealth(msgspec.Struct, frozen=True):
    """Which migration files are applied, and which are not yet."""

    applied: list[str]
    pending: list[str]


class Health(msgspec.Struct, frozen=True, omit_defaults=True):
    """Readiness: `ok` when every check passes, `unavailable` otherwise, with each check."""

    status: str
    failed: list[str]
    checks: dict[str, Check]
    database: DatabaseHealth
    migrations: MigrationsHealth | None = None


class HealthController(Controller):
    """Liveness and readiness for operators, load balancers and orchestrators."""

    path = "/health"
    tags = ("operations",)

    @get(
        operation_id="getHealth",
        summary="Readiness, as at GET /health/ready (kept for existing clients)",
        description=READY_DESCRIPTION,
        opt={"public": True},
        responses=REFUSED_TOKEN,
    )
    async def health(self, state: State, request: Request[Any, Any, Any]) -> Response[Health]:
        """200 when ready, 503 naming the failed checks."""
        return await _ready(state, request)

    @get(
        "/ready",
        operation_id="getReadiness",
        summary="Report whether this process may take traffic, check by check",
        description=READY_DESCRIPTION,
        opt={"public": True},
        responses=REFUSED_TOKEN,
    )
    async def ready(self, state: State, request: Request[Any, Any, Any]) -> Response[Health]:
        """200 when ready, 503 naming the failed checks."""
        return await _ready(state, request)

    @get(
        "/live",
        operation_id="getLiveness",
        summary="Report that the process is up (never touches the database)",
        description="Always 200 while the process's event loop runs; restart it when this fails.",
        opt={"public": True},
        responses=REFUSED_TOKEN,
    )
    async def live(self) -> Liveness:
        """200 while the event loop runs."""
        return Liveness("ok")


async def _ready(state: State, request: Request[Any, Any, Any]) -> Response[Health]:
    """Run the checks and answer them, in detail to a caller with a valid token."""
    detailed = "principal" in request.scope.get("state", {})
    refused = state.write_refusals.recent()
    found = await readiness(state.pool, state.ready_max_lag_seconds, projection_names(), refused)
    body = _body(found, detailed)
    return Response(body, status_code=503 if body.failed else 200)


def _body(found: Readiness, detailed: bool) -> Health:
    """The report; the database's words and the migrations' names only when detailed."""
    checks = (
        found.checks
        if detailed
        else {name: msgspec.structs.replace(c, error=None) for name, c in found.checks.items()}
    )
    migrations = found.migrations
    return Health(
        status="unavailable" if found.failed else "ok",
        failed=found.failed,
        checks=checks,
        database=DatabaseHealth(found.checks["database"].ok),
        migrations=MigrationsHealth(migrations.applied, migrations.pending)
        if detailed and migrations is not None
        else None,
    )
