"""GET /health/live (is the process up), GET /health/ready and GET /health (may it take traffic).

Readiness is public so that load balancers and probes can use it; the database's own error
messages and the names of the migrations are shown only to a caller with a valid token.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from msgspec import Meta

from projections.registry import projection_names
from tracker.api.resources.common import problem_response
from tracker.readiness import CHECKS, Check, Readiness, readiness

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

    status: Annotated[str, Meta(examples=["ok"])]


class DatabaseHealth(msgspec.Struct, frozen=True):
    """Database reachability."""

    reachable: Annotated[bool, Meta(examples=[True])]


class MigrationsHealth(msgspec.Struct, frozen=True):
    """Which migration files are applied, and which are not yet."""

    applied: Annotated[list[str], Meta(examples=[["0001_event_store.sql"]])]
    pending: Annotated[list[str], Meta(examples=[[]])]


class Health(msgspec.Struct, frozen=True, omit_defaults=True):
    """Readiness: `ok` when every check passes, `unavailable` otherwise, with each check."""

    status: Annotated[str, Meta(examples=["ok"])]
    failed: Annotated[list[str], Meta(examples=[[]])]
    checks: Annotated[dict[str, Check], Meta(examples=[{name: {"ok": True} for name in CHECKS}])]
    database: DatabaseHealth
    migrations: MigrationsHealth | None = None


NOT_READY_EXAMPLE = {
    "status": "unavailable",
    "failed": ["writable"],
    "checks": {
        "database": {"ok": True},
        "writable": {
            "ok": False,
            "reason": "the database refuses writes: read-only (SQLSTATE 25006)",
        },
        "migrations": {"ok": True},
        "projections": {"ok": True},
    },
    "database": {"reachable": True},
}
# The same body as 200, with `status` `unavailable` and the failed checks named.
NOT_READY = {
    503: ResponseSpec(
        data_container=Health,
        description="Not ready: `failed` names each check that did not pass, `reason` says why",
        generate_examples=False,
        examples=[Example(value=NOT_READY_EXAMPLE)],
    )
}


class HealthController(Controller):
    """Liveness and readiness for operators, load balancers and orchestrators."""

    path = "/health"
    tags = ("operations",)

    @get(
        operation_id="getHealth",
        summary="Readiness, as at GET /health/ready (kept for existing clients)",
        description=READY_DESCRIPTION,
        opt={"public": True},
        responses=REFUSED_TOKEN | NOT_READY,
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
        responses=REFUSED_TOKEN | NOT_READY,
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
