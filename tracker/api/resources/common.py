"""Helpers every resource controller shares: responses, references, OpenAPI documentation."""

from __future__ import annotations

import uuid
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from litestar import Response
from litestar.openapi.datastructures import ResponseSpec

from tracker.api.problems import Problem
from tracker.api.schemas import Creation, Recorded
from tracker.application.commands import Request
from tracker.application.ports import Repository, Saved
from tracker.domain import InvalidValue
from tracker.eventstore.repository import AggregateNotFound

A = TypeVar("A", bound=Aggregate)

# Ids derived from (source_system, external_id) live in their own UUID namespace.
EXTERNAL_IDS = uuid.UUID("7c1f4a52-3b0e-4f55-9d0e-5a7f0c1d2e3f")


def _spec(description: str) -> ResponseSpec:
    # Examples come from tracker/api/openapi.py; generated ones are random and would drift.
    return ResponseSpec(
        data_container=Problem,
        description=description,
        media_type="application/problem+json",
        generate_examples=False,
    )


READ_ERRORS = {
    401: _spec("No bearer token, or an unknown or revoked one"),
    404: _spec("No such resource"),
}
COMMAND_ERRORS = READ_ERRORS | {
    400: _spec("Malformed JSON or a bad header"),
    403: _spec("A rule refuses this caller; `rule` names it"),
    409: _spec("Not possible in the current state, or changed concurrently"),
    412: _spec("If-Match named another version; `current_version` is the current one"),
    422: _spec("A field is invalid; `errors` names each field"),
}
CREATE_ERRORS = {k: v for k, v in COMMAND_ERRORS.items() if k not in (404, 412)}


def new_id(body: Creation, call: Request) -> tuple[UUID, Request]:
    """The id a creation uses, and the request with an external reference as its retry key."""
    if (body.source_system is None) != (body.external_id is None):
        field = "external_id" if body.external_id is None else "source_system"
        raise InvalidValue(field, "source_system and external_id come together")
    if body.source_system is not None and body.external_id is not None:
        reference = f"{body.source_system}:{body.external_id}"
        derived = uuid.uuid5(EXTERNAL_IDS, reference)
        if body.id is not None and body.id != derived:
            raise InvalidValue("id", "conflicts with the id derived from the external reference")
        return derived, _with_key(call, f"external:{reference}")
    if body.id is None and call.key is not None:
        # Derived from the retry key, so a retried creation names the same resource.
        return uuid.uuid5(EXTERNAL_IDS, f"key:{call.key}"), call
    return body.id or uuid.uuid4(), call


def _with_key(call: Request, key: str) -> Request:
    import msgspec

    return msgspec.structs.replace(call, idempotency_key=key)


def created(saved: Saved, stream_id: UUID, path: str) -> Response[Recorded]:
    """201 with the new resource's location; a replayed retry gets the same answer."""
    headers = {"Location": f"{path}/{stream_id}"} | _replayed(saved)
    return Response(Recorded.of(saved, stream_id), status_code=201, headers=headers)


def recorded(saved: Saved, stream_id: UUID) -> Response[Recorded]:
    """200 with where the command's events landed."""
    return Response(Recorded.of(saved, stream_id), status_code=200, headers=_replayed(saved))


def _replayed(saved: Saved) -> dict[str, str]:
    return {"Idempotent-Replayed": "true"} if saved.replayed else {}


def state(view: object, version: int) -> Response[object]:
    """A resource's current state with its version as the ETag."""
    return Response(view, headers={"ETag": f'"{version}"'})


async def referenced(repository: Repository, cls: type[A], aggregate_id: UUID, field: str) -> A:
    """Load an aggregate a request body refers to; an unknown id is that field's error."""
    try:
        return await repository.get(cls, aggregate_id)
    except AggregateNotFound:
        raise InvalidValue(field, f"no such {cls.__name__.lower()}: {aggregate_id}") from None
