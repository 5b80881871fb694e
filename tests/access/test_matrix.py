"""Every cell of the access table, both ways: allowed succeeds; refused is refused, writes nothing.

Cells that write nothing (every refusal, every read) share one arranged world per operation,
re-arranged whenever anything changed it; each allowed write gets a new world of its own.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import asyncpg
import pytest

from tests.access.arrange import Call
from tests.access.cells import arranged, send
from tests.access.world import Client, World
from tests.clock import Clock
from tracker.application.access import ALLOWED, OUTSIDERS, ROWS
from tracker.cli import OPENAPI_PATH

Cell = tuple[str, str]


def methods() -> dict[str, str]:
    """Each operation's method, from the committed document (a test keeps it current)."""
    document = json.loads(OPENAPI_PATH.read_text())
    return {op["operationId"]: m for item in document["paths"].values() for m, op in item.items()}


METHOD = methods()


def past_readers() -> set[str]:
    """The operations that take as_of, from the committed document."""
    document = json.loads(OPENAPI_PATH.read_text())
    return {
        op["operationId"]
        for item in document["paths"].values()
        for op in item.values()
        if any(p["name"] == "as_of" for p in op.get("parameters", []))
    }


AS_OF = past_readers()
WRITES = [
    (o, c) for o, r in ROWS.items() for c, v in r.items() if v == ALLOWED and METHOD[o] != "get"
]
SHARED = [(o, c) for o, r in ROWS.items() for c in r if (o, c) not in set(WRITES)]
_world: dict[str, Any] = {}


def ids(cell: Cell) -> str:
    return f"{cell[0]}-{cell[1]}"


async def shared(client: Client, pool: asyncpg.Pool, clock: Clock, op: str) -> tuple[World, Call]:
    """The operation's arranged world, reused while nothing has changed it."""
    client.app.state.authenticator.throttle.clear()
    if _world.get("op") == op and await _world["world"].footprint() == _world["footprint"]:
        return _world["world"], _world["call"]
    world, call = await arranged(client, pool, clock, op)
    _world.update(op=op, world=world, call=call, footprint=await world.footprint())
    return world, call


@pytest.mark.parametrize("cell", SHARED, ids=ids)
async def test_cell_writing_nothing(
    session_client: Client, session_pool: asyncpg.Pool, clock: Clock, cell: Cell
) -> None:
    op, column = cell
    world, call = await shared(session_client, session_pool, clock, op)
    before = await world.footprint()
    r = await send(world, call, column)
    expected = ROWS[op][column]
    if expected == ALLOWED:
        assert 200 <= r.status_code < 300, r.text
        shows_forum_a(call, column, r.text)
    else:
        await refused(world, call, column, r, expected)
    if op in AS_OF:
        # As of now, the same access: the past never shows what the present hides.
        past = await send(world, as_of_now(call, await world.position()), column)
        assert past.status_code == r.status_code, past.text
        if expected == ALLOWED:
            shows_forum_a(call, column, past.text)
    assert await world.footprint() == before, "a refused request wrote"


def as_of_now(call: Call, position: int) -> Call:
    """The same request as of the newest event."""
    params = {**call.params, "as_of": str(position)}
    return Call(call.method, call.path, call.json, params, call.acting, call.secret)


@pytest.mark.parametrize("cell", WRITES, ids=ids)
async def test_allowed_write(
    session_client: Client, session_pool: asyncpg.Pool, clock: Clock, cell: Cell
) -> None:
    op, column = cell
    # A new world beside the last, in tables emptied once per operation: seeding is the cost.
    clean = _world.get("writes") != op
    _world.clear()
    _world["writes"] = op
    session_client.app.state.authenticator.throttle.clear()
    world, call = await arranged(session_client, session_pool, clock, op, clean)
    before = await world.footprint()
    r = await send(world, call, column)
    assert 200 <= r.status_code < 300, r.text
    assert await world.footprint() != before, "an allowed write recorded nothing"


def shows_forum_a(call: Call, column: str, text: str) -> None:
    """A list shows forum A's resource to those who see forum A, and to no one else."""
    if call.secret is not None:
        assert (call.secret in text) == (column not in OUTSIDERS), text


async def refused(world: World, call: Call, column: str, r: Any, status: int) -> None:
    """The expected problem; a 404 is the very problem an unknown id gets, a 422 the very
    problem a creation naming an unknown forum gets, byte for byte but the forum's id."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    if status == 403:
        assert problem.get("rule"), problem
    if status == 404:
        unknown = await send(world, twin(call), column)
        assert unknown.status_code == 404, unknown.text
        assert _masked(unknown.json()) == _masked(problem), (unknown.text, r.text)
    if status == 422:
        made_up = str(uuid.uuid4())
        unknown = await send(world, forum_twin(world, call, made_up), column)
        assert unknown.status_code == 422, unknown.text
        assert r.content.replace(world.forum().encode(), made_up.encode()) == unknown.content
        assert made_up in unknown.text, "the refusal names the forum"


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def twin(call: Call) -> Call:
    """The same request for a resource id nobody has."""
    path = UUID.sub(str(uuid.uuid4()), call.path, count=1)
    return Call(call.method, path, call.json, call.params, call.acting)


def forum_twin(world: World, call: Call, made_up: str) -> Call:
    """The same creation naming a forum nobody has instead of forum A."""
    body = json.loads(json.dumps(call.json).replace(world.forum(), made_up))
    return Call(call.method, call.path, body, call.params, call.acting)


def _masked(problem: dict[str, Any]) -> str:
    return UUID.sub("<id>", json.dumps(problem, sort_keys=True))
