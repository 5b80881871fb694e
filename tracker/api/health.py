"""GET /health: is the database reachable, and are the migrations applied?"""

from __future__ import annotations

import asyncpg
import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State

from tracker.migrate import migration_state


class DatabaseHealth(msgspec.Struct, frozen=True):
    """Database reachability."""

    reachable: bool
    error: str | None = None


class MigrationsHealth(msgspec.Struct, frozen=True):
    """Which migration files are applied, and which are not yet."""

    applied: list[str]
    pending: list[str]


class Health(msgspec.Struct, frozen=True):
    """The service's health: ok only when the database answers and nothing is pending."""

    status: str
    database: DatabaseHealth
    migrations: MigrationsHealth | None = None


class HealthController(Controller):
    """Liveness and readiness for operators and load balancers."""

    path = "/health"
    tags = ("operations",)

    @get(
        operation_id="getHealth",
        summary="Report database reachability and migration state",
        opt={"public": True},
    )
    async def health(self, state: State) -> Response[Health]:
        """200 when healthy, 503 when the database is unreachable or migrations are pending."""
        pool: asyncpg.Pool = state.pool
        try:
            async with pool.acquire(timeout=2) as conn:
                migrations = await migration_state(conn)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            down = Health("unavailable", DatabaseHealth(False, f"{type(error).__name__}: {error}"))
            return Response(down, status_code=503)
        healthy = not migrations.pending
        body = Health(
            "ok" if healthy else "migrations pending",
            DatabaseHealth(True),
            MigrationsHealth(migrations.applied, migrations.pending),
        )
        return Response(body, status_code=200 if healthy else 503)
