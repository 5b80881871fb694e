"""Helpers every resource controller shares: new ids, responses, OpenAPI documentation."""

from __future__ import annotations

from uuid import UUID

from litestar import Response, post
from litestar.openapi.datastructures import ResponseSpec

from tracker.api.problems import Problem
from tracker.api.schemas import Creation, Recorded
from tracker.application.commands import Request
from tracker.application.external import creation_id
from tracker.application.ports import Saved


def problem_response(description: str) -> ResponseSpec:
    """A documented error response: problem details, examples from tracker/api/openapi.py."""
    # Examples come from tracker/api/openapi.py; generated ones are random and would drift.
    return ResponseSpec(
        data_container=Problem,
        description=description,
        media_type="application/problem+json",
        generate_examples=False,
    )


READ_ERRORS = {
    401: problem_response("No bearer token, or an unknown, revoked or expired one"),
    404: problem_response("No such resource"),
    422: problem_response("A query parameter (such as as_of) is invalid; `errors` names it"),
    503: problem_response(
        "The database could not be reached; retry after Retry-After seconds (a command with "
        "the same Idempotency-Key, to learn whether it was applied)"
    ),
}
COMMAND_ERRORS = READ_ERRORS | {
    400: problem_response("Malformed JSON or a bad header"),
    403: problem_response("A rule refuses this caller; `rule` names it"),
    409: problem_response("Not possible in the current state, or changed concurrently"),
    412: problem_response("If-Match named another version; `current_version` is the current one"),
    422: problem_response("A field is invalid; `errors` names each field"),
}
CREATE_ERRORS = {k: v for k, v in COMMAND_ERRORS.items() if k not in (404, 412)}


def post_creation(*, operation_id: str, summary: str) -> post:
    """A POST to a collection that creates a resource: 201, documented with CREATE_ERRORS."""
    return post(
        operation_id=operation_id, summary=summary, responses=CREATE_ERRORS, status_code=201
    )


def post_command(
    path: str, *, operation_id: str, summary: str, description: str | None = None
) -> post:
    """A POST that changes an existing resource: 200, documented with COMMAND_ERRORS."""
    return post(
        path,
        operation_id=operation_id,
        summary=summary,
        description=description,
        responses=COMMAND_ERRORS,
        status_code=200,
    )


def new_id(body: Creation, call: Request) -> tuple[UUID, Request]:
    """The id a creation uses, and the request with an external reference as its retry key."""
    return creation_id(call, body.id, body.source_system, body.external_id)


def created(saved: Saved, stream_id: UUID, path: str) -> Response[Recorded]:
    """201 with the new resource's location; a replayed retry gets the same answer."""
    headers = {"Location": f"{path}/{stream_id}"} | replayed(saved)
    return Response(Recorded.of(saved, stream_id), status_code=201, headers=headers)


def recorded(saved: Saved, stream_id: UUID) -> Response[Recorded]:
    """200 with where the command's events landed."""
    return Response(Recorded.of(saved, stream_id), status_code=200, headers=replayed(saved))


def replayed(saved: Saved) -> dict[str, str]:
    """The header that marks an answer replayed for a retried request."""
    return {"Idempotent-Replayed": "true"} if saved.replayed else {}


def state(view: object, version: int) -> Response[object]:
    """A resource's current state with its version as the ETag."""
    return Response(view, headers={"ETag": f'"{version}"'})
