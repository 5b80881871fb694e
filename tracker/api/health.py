"""GET /health: is the database reachable, and (to a caller with a token) which migrations are
applied?"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get
from litestar.datastructures import State

from tracker.api.resources.common import problem_response
from tracker.migrate import migration_state


class DatabaseHealth(msgspec.Struct, frozen=True, omit_defaults=True):
    """Database reachability."""

    reachable: bool
    error: str | None = None


class MigrationsHealth(msgspec.Struct, frozen=True):
    """Which migration files are applied, and which are not yet."""

    applied: list[str]
    pending: list[str]


class Health(msgspec.Struct, frozen=True, omit_defaults=True):
    """The service's health: ok only when the database answers and nothing is pending.

    Without a token, only the status and whether the database is reachable; the database's error
    and the migrations need a valid token of any kind.
    """

    status: str
    database: DatabaseHealth
    migrations: MigrationsHealth | None = None


class HealthController(Controller):
    """Liveness and readiness for operators and load balancers."""

    path = "/health"
    tags = ("operations",)

    @get(
        operation_id="getHealth",
        summary="Report database reachability (and, with a token, the migrations)",
        opt={"public": True},
        responses={
            401: problem_response("A token was sent, and it is unknown, revoked or expired")
        },
    )
    async def health(self, state: State, request: Request[Any, Any, Any]) -> Response[Health]:
        """200 when healthy, 503 when the database is unreachable or migrations are pending."""
        detailed = "principal" in request.scope.get("state", {})
        pool: asyncpg.Pool = state.pool
        try:
            async with pool.acquire(timeout=2) as conn:
                migrations = await migration_state(conn)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            reason = f"{type(error).__name__}: {error}" if detailed else None
            return Response(Health("unavailable", DatabaseHealth(False, reason)), status_code=503)
        healthy = not migrations.pending
        body = Health(
            "ok" if healthy else "migrations pending",
            DatabaseHealth(True),
            MigrationsHealth(migrations.applied, migrations.pending) if detailed else None,
        )
        return Response(body, status_code=200 if healthy else 503)
