"""What the commands share: the settings, exit statuses, a migrated pool, the event loop."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, NoReturn, TypeVar

import asyncpg
import click

from tracker.connections import CLI
from tracker.database import create_pool, database_url
from tracker.migrate import migrate
from tracker.settings import Settings

T = TypeVar("T")

# uvloop's environment marker leaves it out on Windows; there the commands use asyncio's loop.
HAS_UVLOOP = importlib.util.find_spec("uvloop") is not None

pass_settings = click.make_pass_decorator(Settings)


class Ordered(click.Group):
    """A group that lists its commands in the order they were added, not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The commands, as added."""
        return list(self.commands)


def finish(status: int) -> None:
    """End the command with its exit status (0: carry on to click's own exit)."""
    if status:
        click.get_current_context().exit(status)


def fail(message: str, status: int = 1) -> NoReturn:
    """Say what went wrong on standard error and exit."""
    click.echo(f"error: {message}", err=True)
    click.get_current_context().exit(status)


def run_fast(main: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop where it is installed (faster at receiving rows), else on asyncio's."""
    if not HAS_UVLOOP:
        return asyncio.run(main)
    import uvloop

    return uvloop.run(main)


async def resolved_url(settings: Settings) -> str:
    """The database URL, starting the embedded server (which blocks) in a thread if needed."""
    return await asyncio.to_thread(database_url, settings)


@asynccontextmanager
async def migrated_pool(
    url: str, size: int, role: str = CLI, settings: Settings | None = None
) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a database brought up to the current migrations, closed after."""
    pool = await create_pool(url, size=size, role=role, settings=settings)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        yield pool
    finally:
        await pool.close()
