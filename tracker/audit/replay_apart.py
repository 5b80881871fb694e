"""A past view's replay run by a child process, over a connection of its own."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Sequence

import asyncpg
import msgspec

from projections.base import Projection
from projections.registry import all_projections
from tracker.audit.as_of import Cut
from tracker.audit.replay import replay
from tracker.connections import connect
from tracker.database import Connection, init_connection

# The fold and the COPY of a replay are seconds of Python work. In the server's process they
# hold its one event loop, so every other request waits for a slice of them; in a child the
# operating system shares the cores between the two, and the server answers in between.

# Ends the child's backend when the child is stopped, for a query of its own may wait on a lock
# and would outlive the socket. Found by its application_name, the scratch schema's name, so a
# backend pid since reused by another connection is never hit; waits up to 5 s for it to end.
TERMINATE = """
SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
WHERE application_name = $1 AND pid <> pg_backend_pid()
"""
# Lines of the child's stderr kept in the error when it fails.
TAIL = 20


class Job(msgspec.Struct, frozen=True, kw_only=True):
    """What the child replays, sent on its stdin (the URL may hold a password)."""

    url: str
    projections: list[str]
    schema: str
    cut: Cut
    below: int
    batch_size: int


class ReplayFailed(Exception):
    """The child process stopped without finishing the replay."""


async def replay_apart(
    conn: Connection,
    url: str,
    projections: Sequence[Projection],
    schema: str,
    cut: Cut,
    below: int,
    batch_size: int,
) -> None:
    """As replay(), into the scratch schema conn created, by a child process connecting to url."""
    names = [p.name for p in projections]
    job = Job(
        url=url, projections=names, schema=schema, cut=cut, below=below, batch_size=batch_size
    )
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await child.communicate(msgspec.json.encode(job))
    except BaseException:
        # Cancelled (a timeout, a client gone): nothing of the replay may run on.
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()
        # The caller's cleanup drops the schema; a broken connection is its to report.
        with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            await conn.execute(TERMINATE, schema)
        raise
    if child.returncode != 0:
        tail = b"\n".join(err.splitlines()[-TAIL:]).decode(errors="replace")
        raise ReplayFailed(f"the replay process exited with {child.returncode}:\n{tail}")


async def _run(job: Job) -> None:
    """The replay itself, in the child."""
    wanted = {p.name: p for p in all_projections()}
    projections = [wanted[name] for name in job.projections]
    # No statement limit: the parent bounds the whole replay and kills this process past it.
    conn = await connect(job.url, job.schema, statement_timeout=0)
    try:
        await init_connection(conn)
        await replay(conn, projections, job.schema, job.cut, job.below, job.batch_size)
    finally:
        await conn.close()


def main() -> None:
    """Read the job from stdin and replay it."""
    asyncio.run(_run(msgspec.json.decode(sys.stdin.buffer.read(), type=Job)))


if __name__ == "__main__":
    main()
