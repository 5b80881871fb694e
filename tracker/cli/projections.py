"""`tracker projections run | status | rebuild NAME... | rebuild --all | retry NAME | drop NAME`."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

import asyncpg
import click

from projections.rebuild import RebuildRunning, build_new, rebuild_many
from projections.registry import all_projections, by_name, projection_names, projection_runner
from projections.retire import Rebuilding, drop_projection
from projections.runner import ProjectionRunner
from projections.status import ProjectionStatus, statuses
from tracker.cli.common import (
    Ordered,
    fail,
    finish,
    migrated_pool,
    pass_settings,
    resolved_url,
    run_fast,
)
from tracker.cli.progress import EventProgress
from tracker.connections import CLI, PROJECTIONS
from tracker.eventstore import EventStore
from tracker.settings import Settings

RETRY = """
UPDATE projection_generations g
SET state = CASE WHEN g.generation = p.live_generation THEN 'live' ELSE 'building' END,
    error = NULL, failed_position = NULL
FROM projections p
WHERE p.name = g.name AND g.name = $1 AND g.state = 'failed'
"""

Command = Callable[[asyncpg.Pool, ProjectionRunner], Awaitable[int]]


@click.group(cls=Ordered)
def projections() -> None:
    """Run, inspect and rebuild projections."""


def _run(settings: Settings, command: Command, role: str = CLI) -> None:
    """Run a sub-command with a pool and a runner of every projection, then exit with its status."""
    # uvloop: a rebuild spends much of its time receiving rows, where it is the faster loop.
    finish(run_fast(_with_runner(settings, command, role)))


async def _with_runner(settings: Settings, command: Command, role: str) -> int:
    """Run command on a migrated pool and a runner of every projection; a wrong name exits 2."""
    url = await resolved_url(settings)
    async with migrated_pool(url, settings.pool_size, role, settings) as pool:
        store = EventStore(pool, poll_interval=settings.poll_interval)
        runner = projection_runner(settings, store, url)
        try:
            return await command(pool, runner)
        except KeyError as error:
            fail(f"no projection named {error}", status=2)


@projections.command()
@pass_settings
def run(settings: Settings) -> None:
    """Keep every projection current (until interrupted)."""
    _run(settings, lambda pool, runner: _follow(runner, settings.poll_interval), PROJECTIONS)


async def _follow(runner: ProjectionRunner, poll_seconds: float) -> int:
    """Build projections new to this release, then follow the log until a signal stops it."""
    # Ctrl-C still interrupts a first build; it resumes on the next start.
    with EventProgress() as progress:
        built = await build_new(runner, progress)
    if built:
        click.echo(f"built {', '.join(built)} from the log", err=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    click.echo("running projections; Ctrl-C to stop", err=True)
    await runner.run(stop, poll_seconds=poll_seconds)
    return 0


@projections.command()
@pass_settings
def status(settings: Settings) -> None:
    """Checkpoint, lag and state of every projection."""
    _run(settings, lambda pool, runner: _status(pool, settings.horizon_warning_seconds))


async def _status(pool: asyncpg.Pool, horizon_warning: float) -> int:
    _print_status(await statuses(pool, projection_names(), horizon_warning))
    return 0


@projections.command()
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option(
    "--all", "every", is_flag=True, help="Every projection, reading the log once for all."
)
@pass_settings
def rebuild(settings: Settings, names: tuple[str, ...], every: bool) -> None:
    """Rebuild beside the live tables, then switch."""
    _run(settings, lambda pool, runner: _rebuild(runner, list(names), every))


async def _rebuild(runner: ProjectionRunner, names: list[str], every: bool) -> int:
    """Rebuild the named projections, or all of them, and say which generations went live."""
    if every == bool(names):
        fail("name the projections to rebuild, or give --all", status=2)
    chosen = all_projections() if every else [by_name(n) for n in names]
    projections = list({p.name: p for p in chosen}.values())
    runner.batch_size = 5000  # bigger batches: fewer round trips while nobody reads the new tables
    try:
        with EventProgress() as progress:
            generations = await rebuild_many(runner, projections, progress)
    except RebuildRunning as running:
        fail(f"a rebuild of {running} is already running")
    except (KeyboardInterrupt, asyncio.CancelledError):
        which = " ".join(p.name for p in projections)
        click.echo(f"interrupted; run the same command again to resume {which}")
        return 130
    for name, generation in generations.items():
        click.echo(f"{name}: generation {generation} is live")
    return 0


@projections.command()
@click.argument("name")
@pass_settings
def retry(settings: Settings, name: str) -> None:
    """Clear a failure so the projection runs again."""
    _run(settings, lambda pool, runner: _retry(pool, name))


async def _retry(pool: asyncpg.Pool, name: str) -> int:
    done = await pool.execute(RETRY, by_name(name).name)
    click.echo("cleared" if done != "UPDATE 0" else "nothing to retry")
    return 0


@projections.command()
@click.argument("name")
@pass_settings
def drop(settings: Settings, name: str) -> None:
    """Drop a projection this release no longer runs."""
    _run(settings, lambda pool, runner: _drop(pool, name))


async def _drop(pool: asyncpg.Pool, name: str) -> int:
    if name in projection_names():
        fail(f"{name} is a projection this release runs; rebuild it instead", status=2)
    async with pool.acquire() as conn:
        try:
            generations = await drop_projection(conn, name)
        except Rebuilding:
            fail(f"a rebuild of {name} is running; stop it first")
    click.echo(f"{name}: dropped generations {', '.join(map(str, generations)) or 'none'}")
    return 0


def _print_status(rows: list[ProjectionStatus]) -> None:
    click.echo(
        f"{'projection':<24} {'gen':>3} {'state':<20} {'checkpoint':>16} {'applied':>10} "
        f"{'lag':>8} {'lag s':>7} {'ev/s':>8}"
    )
    for s in rows:
        click.echo(
            f"{s.name:<24} {s.generation:>3} {s.state:<20} {s.checkpoint:>16} "
            f"{s.events_applied:>10,} {s.lag_events:>8,} {s.lag_seconds:>7.1f} "
            f"{s.events_per_second:>8,.0f}"
        )
        if s.error:
            click.echo(f"    failed at position {s.failed_position}: {s.error}")
        if s.retrying_error:
            click.echo(f"    retrying: {s.retrying_error}")
        if s.held_back_by:
            b = s.held_back_by
            click.echo(
                f"    held back by pid {b.pid} ({b.application_name!r}, database "
                f"{b.database!r}, {b.state}), open {b.transaction_age_seconds:.0f} s"
            )
