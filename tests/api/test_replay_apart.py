"""A past view replayed by a child process: the same answer, and nothing left when it is stopped."""

from __future__ import annotations

import asyncpg
import psutil
import pytest

from tests.api.test_view_limits import (
    LATER,
    LEFTOVERS,
    REPLAY_QUERY,
    Partnership,
    in_background,
    locked,
    partnership,
    until_waiting,
)
from tracker.api.view_limits import ViewLimits
from tracker.audit.past_views import views_as_of
from tracker.audit.replay_apart import ReplayFailed

__all__ = ["partnership"]  # the fixture, shared with the limits' tests

# The child's connection is named after its scratch schema.
CHILDREN = "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'as\\_of\\_%'"
WAITING_CHILD = """
SELECT EXISTS (SELECT FROM pg_stat_activity
               WHERE $1 = ANY(pg_blocking_pids(pid)) AND application_name LIKE 'as\\_of\\_%')
"""


def replaying() -> list[psutil.Process]:
    """This process's children running a replay."""
    found = []
    for child in psutil.Process().children():
        try:
            if "tracker.audit.replay_apart" in child.cmdline():
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


async def test_a_past_view_replayed_apart_is_the_one_replayed_in_the_process(
    partnership: Partnership,
) -> None:
    auditor = await partnership.tokens.headers("auditor")
    paths = [partnership.leader_view(), *partnership.paths.values()]
    earlier = str(await partnership.pool.fetchval("SELECT max(position) - 1 FROM events"))
    answers: dict[bool, list[object]] = {}
    for apart in (False, True):
        async with partnership.client(ViewLimits(), apart=apart) as client:
            answers[apart] = []
            for path in paths:
                for as_of in (LATER, earlier):
                    got = await client.get(path, params={"as_of": as_of}, headers=auditor)
                    answers[apart].append((got.status_code, got.json()))
    assert answers[True] == answers[False]
    assert [status for status, _ in answers[True]].count(200) >= len(paths) + 2
    assert await partnership.pool.fetchval(LEFTOVERS) == 0


async def test_a_replay_apart_over_its_time_limit_is_stopped_and_leaves_nothing(
    partnership: Partnership,
) -> None:
    auditor = await partnership.tokens.headers("auditor")
    path = partnership.leader_view()
    pool = partnership.pool
    # The limit covers the child's start-up too (a couple of seconds on a busy machine) before
    # it reaches the held lock.
    async with partnership.client(ViewLimits(as_of_timeout=10), apart=True) as client:
        async with locked(pool, "events") as holder:
            pid = holder.get_server_pid()
            slow = await in_background(client.get(path, params={"as_of": LATER}, headers=auditor))
            await until_waiting(pool, pid, REPLAY_QUERY)
            # The read of the log waiting on the lock is the child's, on its own connection.
            assert await pool.fetchval(WAITING_CHILD, pid)
            assert replaying()
            answer = await slow
            # Its process killed and its backend ended before the answer, not when a lock frees.
            assert not replaying()
            assert await pool.fetchval(CHILDREN) == 0
        assert answer.status_code == 503, answer.text
        assert answer.json()["type"].endswith("/view-timeout")
        assert await pool.fetchval(LEFTOVERS) == 0
        after = await client.get(path, params={"as_of": LATER}, headers=auditor)
        assert after.status_code == 200, after.text


async def test_a_child_that_fails_is_an_error_and_leaves_nothing(
    partnership: Partnership,
) -> None:
    pool: asyncpg.Pool = partnership.pool
    nowhere = "postgresql://nobody@127.0.0.1:1/nothing"
    with pytest.raises(ReplayFailed, match="exited with 1"):
        async with views_as_of(pool, LATER, apart=nowhere):
            pass
    assert await pool.fetchval(LEFTOVERS) == 0
