"""Running one cell: a seeded world, the arranged request, sent as one column's caller."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.access import (
    arrange_commitments,
    arrange_directory,
    arrange_feed,
    arrange_governance,
    arrange_registry,
)
from tests.access.arrange import ARRANGE, Call
from tests.access.world import Client, World, seed
from tests.clock import Clock
from tests.conftest import empty_tables
from tracker.domain import EVENT_TYPES, STREAM_TYPES
from tracker.eventstore import EventStore
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.repository import Repository

# Imported for their registrations.
MODULES = (
    arrange_commitments,
    arrange_directory,
    arrange_feed,
    arrange_governance,
    arrange_registry,
)
INTEGRATIONS = ("integration", "limited_here", "limited_other")


async def fresh_world(client: Client, pool: asyncpg.Pool, clock: Clock, clean: bool) -> World:
    """Both forums, their leaders and a token per column, in emptied tables if `clean`.

    Worlds share nothing but the tables: each has its own forums, leaders and tokens.
    """
    if clean:
        await empty_tables(pool)
    client.app.state.authenticator.throttle.clear()
    store = EventStore(pool, poll_interval=0.01, now=clock)
    repository = Repository(store, EventMapper(EVENT_TYPES, STREAM_TYPES))
    return await seed(World(client, pool, clock), repository)


async def arranged(
    client: Client, pool: asyncpg.Pool, clock: Clock, op: str, clean: bool = True
) -> tuple[World, Call]:
    """A fresh world with the operation's resource in the state it needs."""
    world = await fresh_world(client, pool, clock, clean)
    return world, await ARRANGE[op](world)


async def send(world: World, call: Call, column: str) -> Any:
    """The arranged request as the column's caller; integrations name the leader they act for."""
    headers = dict(world.h[column])
    if call.acting is not None and column in INTEGRATIONS:
        headers["On-Behalf-Of"] = world.id(call.acting)
    return await world.client.request(
        call.method, call.path, json=call.json, params=call.params, headers=headers
    )
