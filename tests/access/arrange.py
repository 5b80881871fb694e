"""Arrange registry: per operation, the state it needs and the request that exercises it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tests.access.world import World


@dataclass(frozen=True)
class Call:
    """One request: an integration sends On-Behalf-Of for the leader in relationship `acting`."""

    method: str
    path: str
    json: Any = None
    params: dict[str, str] = field(default_factory=dict)
    acting: str | None = None
    # An id a list must show to those who see forum A, and hide from everyone else.
    secret: str | None = None


Arrange = Callable[[World], Awaitable[Call]]
ARRANGE: dict[str, Arrange] = {}


def arranges(operation_id: str) -> Callable[[Arrange], Arrange]:
    """Register the arrange function of one operation."""

    def register(arrange: Arrange) -> Arrange:
        assert operation_id not in ARRANGE, operation_id
        ARRANGE[operation_id] = arrange
        return arrange

    return register


def get(path: str, secret: str | None = None, **params: str) -> Call:
    return Call("GET", path, params=params, secret=secret)


async def view(w: World, path: str, secret: str | None = None) -> Call:
    """A read of a view, once the projections have every event arranged so far."""
    return get(path, secret, min_position=str(await w.position()))


def post(path: str, json: Any = None, acting: str | None = "owner") -> Call:
    return Call("POST", path, json, acting=acting)
