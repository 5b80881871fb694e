"""Every step of a commitment's lifecycle as a sub-resource: a handler per row of the table."""

# No `from __future__ import annotations`: the handlers' annotations name each row's body type,
# which litestar must see as a type to parse and document the body.

from collections.abc import Awaitable, Callable
from uuid import UUID

import msgspec
from litestar import Controller, Response
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody

from tracker.api.dependencies import Call, CommandsDep
from tracker.api.resources.commitment_routes import ROUTES, Route
from tracker.api.resources.commitments import PATH
from tracker.api.resources.common import post_command, recorded
from tracker.api.schemas import Command, Recorded
from tracker.application.commands import Commands, Request
from tracker.application.commitment_steps import act_on

Handler = Callable[..., Awaitable[Response[Recorded]]]


async def take(
    route: Route, commitment_id: UUID, body: Command | None, call: Request, commands: Commands
) -> Response[Recorded]:
    """Turn the path and body into the route's command, run it, answer with where it landed."""
    fields = {} if body is None else msgspec.structs.asdict(body)
    command = route.command(commitment_id=commitment_id, **fields)
    return recorded(await act_on(commands, call, command), commitment_id)


def handler(route: Route) -> HTTPRouteHandler:
    """The POST handler of one row, documented by the row."""
    fn = _without_body(route) if route.body is None else _with_body(route, route.body)
    fn.__doc__ = route.description
    fn.__name__ = fn.__qualname__ = route.operation_id
    return post_command(route.path, operation_id=route.operation_id, summary=route.summary)(fn)


def _without_body(route: Route) -> Handler:
    """A handler for a step that takes no body."""

    async def handle(
        self: Controller, commitment_id: FromPath[UUID], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        return await take(route, commitment_id, None, call, commands)

    return handle


def _with_body(route: Route, body: type[Command]) -> Handler:
    """A handler for a step whose body is of this type."""

    async def handle(
        self: Controller,
        commitment_id: FromPath[UUID],
        data: JSONBody[body],  # type: ignore[valid-type]
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        return await take(route, commitment_id, data, call, commands)

    return handle


# The controller class is built from the table, a handler per row.
CommitmentStepController = type(
    "CommitmentStepController",
    (Controller,),
    {
        "__doc__": "A commitment's lifecycle; only the owner can promise.",
        "__module__": __name__,
        "path": PATH,
        "tags": ("commitments",),
        **{route.operation_id: handler(route) for route in ROUTES},
    },
)
