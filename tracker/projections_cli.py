"""`tracker projections run | status | rebuild NAME... | rebuild --all | retry NAME | drop NAME`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import asyncpg
import uvloop

from projections.rebuild import RebuildRunning, build_new, print_progress, rebuild_many
from projections.registry import all_projections, by_name, projection_names
from projections.retire import Rebuilding, drop_projection
from projections.runner import ProjectionRunner
from projections.status import ProjectionStatus, statuses
from tracker.database import create_pool, database_url
from tracker.eventstore import EventStore
from tracker.migrate import migrate
from tracker.settings import Settings

RETRY = """
UPDATE projection_generations g
SET state = CASE WHEN g.generation = p.live_generation THEN 'live' ELSE 'building' END,
    error = NULL, failed_position = NULL
FROM projections p
WHERE p.name = g.name AND g.name = $1 AND g.state = 'failed'
"""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the projections sub-commands."""
    parser = commands.add_parser("projections", help="run, inspect and rebuild projections")
    sub = parser.add_subparsers(dest="projections_command", required=True)
    sub.add_parser("run", help="keep every projection current (until interrupted)")
    sub.add_parser("status", help="checkpoint, lag and state of every projection")
    rebuild_parser = sub.add_parser("rebuild", help="rebuild beside the live tables, then switch")
    rebuild_parser.add_argument("names", nargs="*", metavar="NAME")
    rebuild_parser.add_argument(
        "--all", action="store_true", help="every projection, reading the log once for all"
    )
    retry_parser = sub.add_parser("retry", help="clear a failure so the projection runs again")
    retry_parser.add_argument("name")
    drop_parser = sub.add_parser(
        "drop", help="drop a projection this release no longer runs (after an upgrade)"
    )
    drop_parser.add_argument("name")


def main(settings: Settings, args: argparse.Namespace) -> int:
    """Run one projections sub-command."""
    # uvloop: a rebuild spends much of its time receiving rows, where it is the faster loop.
    return uvloop.run(_main(settings, args))


async def _main(settings: Settings, args: argparse.Namespace) -> int:
    url = await asyncio.to_thread(database_url, settings)
    pool = await create_pool(url, size=settings.pool_size)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        store = EventStore(pool, poll_interval=settings.poll_interval)
        runner = ProjectionRunner(store, all_projections(), lambda: asyncpg.connect(url))
        command = args.projections_command
        if command == "run":
            await _run(runner, settings)
        elif command == "status":
            _print_status(await statuses(pool, projection_names()))
        elif command == "retry":
            done = await pool.execute(RETRY, by_name(args.name).name)
            print("cleared" if done != "UPDATE 0" else "nothing to retry")
        elif command == "drop":
            return await _drop(pool, args.name)
        else:
            return await _rebuild(runner, args.names, args.all)
        return 0
    except KeyError as error:
        print(f"error: no projection named {error}", file=sys.stderr)
        return 2
    finally:
        await pool.close()


async def _run(runner: ProjectionRunner, settings: Settings) -> None:
    # Ctrl-C still interrupts a first build; it resumes on the next start.
    if built := await build_new(runner, print_progress):
        print(f"\nbuilt {', '.join(built)} from the log", file=sys.stderr)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print("running projections; Ctrl-C to stop", file=sys.stderr)
    await runner.run(stop, poll_seconds=settings.poll_interval)


async def _rebuild(runner: ProjectionRunner, names: list[str], every: bool) -> int:
    if every == bool(names):
        print("error: name the projections to rebuild, or give --all", file=sys.stderr)
        return 2
    chosen = all_projections() if every else [by_name(n) for n in names]
    projections = list({p.name: p for p in chosen}.values())
    runner.batch_size = 5000  # bigger batches: fewer round trips while nobody reads the new tables
    try:
        generations = await rebuild_many(runner, projections, print_progress)
    except RebuildRunning as running:
        print(f"\nerror: a rebuild of {running} is already running", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        which = " ".join(p.name for p in projections)
        print(f"\ninterrupted; run the same command again to resume {which}")
        return 130
    print()
    for name, generation in generations.items():
        print(f"{name}: generation {generation} is live")
    return 0


async def _drop(pool: asyncpg.Pool, name: str) -> int:
    if name in projection_names():
        print(
            f"error: {name} is a projection this release runs; rebuild it instead", file=sys.stderr
        )
        return 2
    async with pool.acquire() as conn:
        try:
            generations = await drop_projection(conn, name)
        except Rebuilding:
            print(f"error: a rebuild of {name} is running; stop it first", file=sys.stderr)
            return 1
    print(f"{name}: dropped generations {', '.join(map(str, generations)) or 'none'}")
    return 0


def _print_status(rows: list[ProjectionStatus]) -> None:
    print(
        f"{'projection':<24} {'gen':>3} {'state':<20} {'checkpoint':>16} {'applied':>10} "
        f"{'lag':>8} {'lag s':>7} {'ev/s':>8}"
    )
    for s in rows:
        print(
            f"{s.name:<24} {s.generation:>3} {s.state:<20} {s.checkpoint:>16} "
            f"{s.events_applied:>10,} {s.lag_events:>8,} {s.lag_seconds:>7.1f} "
            f"{s.events_per_second:>8,.0f}"
        )
        if s.error:
            print(f"    failed at position {s.failed_position}: {s.error}")
