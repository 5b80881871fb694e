"""Every refusal as RFC 9457 problem details, mapped from errors in this one place."""

from __future__ import annotations

import logging
import re
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from tracker.api.schemas import OUT_OF_SPAN
from tracker.application.commands import PreconditionFailed
from tracker.application.errors import ConcurrencyError, IdempotencyKeyReused, NotFound
from tracker.application.minutes import InvalidItems, ItemError
from tracker.domain import IllegalTransition, InvalidValue, NotAllowed

log = logging.getLogger("tracker.api")

PROBLEM_JSON = "application/problem+json"
BASE = "https://commitment-tracker.example/problems/"
_BACKTICKED = re.compile(r"`([^`]+)`")
# A body's date or time outside the span names its field inside the message (schemas.py).
_BEFORE, _AFTER = OUT_OF_SPAN.split("{}")
_OUT_OF_SPAN = re.compile(re.escape(_BEFORE) + "([^`]+)" + re.escape(_AFTER))
# The database is out of reach, going away or overloaded: the client may retry. ConnectionError
# covers a refused or reset socket, and InternalClientError a connection cut mid-query.
UNAVAILABLE = (
    ConnectionError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    # A system or I/O error (a failing disk) is the server's trouble too, not the request's.
    asyncpg.exceptions.PostgresSystemError,
    # A database that turned read-only (a standby after failover) cannot take commands for now.
    asyncpg.exceptions.ReadOnlySQLTransactionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
)
# Why a database that answers refuses to write, by SQLSTATE (58: by class), for the problem's
# detail: the operator's cause, and the client's cue that retrying later is all it can do.
WRITE_REFUSALS = {
    "53100": "its disk is full",
    "53200": "it is out of memory",
    "25006": "it is read-only",
    "58": "of a system or I/O error",
}


class FieldError(msgspec.Struct, frozen=True):
    """One field that was refused, and why."""

    field: str
    message: str


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """RFC 9457 problem details, with the data a client needs to act on the refusal."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    rule: str | None = None
    command: str | None = None
    current_state: str | None = None
    stream_id: str | None = None
    current_version: int | None = None
    items: list[Any] | None = None


class Refused(Exception):
    """A refusal raised by the API layer itself, already shaped as a problem."""

    def __init__(self, problem: Problem, headers: dict[str, str] | None = None) -> None:
        super().__init__(problem.detail)
        self.problem = problem
        self.headers = headers or {}


def problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> Problem:
    """Build a problem whose type URI ends in a stable slug."""
    return Problem(type=BASE + slug, title=title, status=status, detail=detail, **extra)


def respond(p: Problem, headers: dict[str, str] | None = None) -> Response[Problem]:
    """Send a problem with its media type."""
    return Response(p, status_code=p.status, media_type=PROBLEM_JSON, headers=headers)


def to_problem(
    error: Exception, aliases: dict[str, str] | None = None
) -> tuple[Problem, dict[str, str]]:
    """Translate any error a request can meet into a problem and extra headers; aliases maps a
    handler's parameter names to the names clients send (`from` for from_size)."""
    match error:
        case Refused():
            return error.problem, error.headers
        case NotAllowed():
            return problem(403, "not-allowed", "Not allowed", str(error), rule=error.rule), {}
        case IllegalTransition():
            return problem(
                409,
                "illegal-transition",
                "Not possible in the current state",
                str(error),
                command=error.command,
                current_state=error.state,
            ), {}
        case InvalidValue():
            errors = [FieldError(error.field, error.reason)]
            return problem(422, "invalid-value", "Invalid value", str(error), errors=errors), {}
        case InvalidItems():
            return _items(error.items), {}
        case NotFound():
            return problem(404, "not-found", "Not found", str(error)), {}
        case PreconditionFailed():
            return problem(
                412,
                "precondition-failed",
                "Version does not match If-Match",
                str(error),
                stream_id=str(error.stream_id),
                current_version=error.current,
            ), {"ETag": f'"{error.current}"'}
        case ConcurrencyError():
            return problem(
                409,
                "concurrent-change",
                "Changed concurrently; retry",
                str(error),
                stream_id=str(error.stream_id),
                current_version=error.current,
            ), {}
        case IdempotencyKeyReused():
            return problem(422, "idempotency-key-reused", "Idempotency key reused", str(error)), {}
        case ValidationException():
            return _validation(error, aliases or {}), {}
        case HTTPException():
            slug = "unauthorized" if error.status_code == 401 else "http-error"
            headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else {}
            title = "Unauthorized" if error.status_code == 401 else "Request refused"
            return problem(error.status_code, slug, title, error.detail), headers | (
                error.headers or {}
            )
    if isinstance(error, UNAVAILABLE):
        log.warning("database unavailable: %r", error)
        return problem(503, "database-unavailable", "Database unavailable", _unavailable(error)), {
            "Retry-After": "1"
        }
    log.exception("unexpected error", exc_info=error)
    return problem(500, "internal", "Internal error", "the server failed; nothing was written"), {}


def _unavailable(error: Exception) -> str:
    """The detail of a 503: why the database refused, when it said so."""
    code = getattr(error, "sqlstate", None) or ""
    why = WRITE_REFUSALS.get(code) or WRITE_REFUSALS.get(code[:2] if code[:2] == "58" else "")
    if why:
        return (
            f"the database refuses writes for now, because {why} (SQLSTATE {code}); retry "
            "after Retry-After seconds with the same Idempotency-Key, which applies a command once"
        )
    return (
        "the database could not be reached, or went away during the request: a command may or "
        "may not have been applied; retry it with the same Idempotency-Key to learn its outcome "
        "without applying it twice"
    )


def _items(items: list[ItemError]) -> Problem:
    """Every refused item of a request at once, each as a field error too."""
    errors = [
        FieldError(f"{i.list}[{i.index}]" + (f".{i.field}" if i.field else ""), i.message)
        for i in items
    ]
    fields = ", ".join(e.field for e in errors)
    return problem(
        422,
        "invalid-items",
        "Invalid items",
        f"nothing was written; invalid: {fields}",
        items=items,
        errors=errors,
    )


def _validation(error: ValidationException, aliases: dict[str, str]) -> Problem:
    extra = error.extra if isinstance(error.extra, list) else []
    if not extra:
        return problem(400, "malformed-request", "Malformed request", error.detail)
    errors = []
    for item in extra:
        message = str(item.get("message", ""))
        field = str(item.get("key", ""))
        field = aliases.get(field, field)
        if spanned := _OUT_OF_SPAN.match(message):
            inner = spanned.group(1)
            field = inner if field == "data" else f"{field}.{inner}"
        elif field == "data":  # the body as a whole: the field is named inside the message
            named = _BACKTICKED.search(message)
            field = named.group(1) if named and "field" in message else "body"
        errors.append(FieldError(field, message))
    fields = ", ".join(e.field for e in errors)
    return problem(422, "validation", "Invalid request", f"invalid: {fields}", errors=errors)


def handle(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    """The one exception handler the app installs."""
    refusals = getattr(request.app.state, "write_refusals", None)
    if refusals is not None:
        refusals.note(error)  # readiness fails while the database refuses writes
    p, headers = to_problem(
        error, _aliases(request) if isinstance(error, ValidationException) else None
    )
    return respond(p, headers)


def _aliases(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The handler's parameters that clients know by another name."""
    handler = request.scope.get("route_handler")
    if handler is None:
        return {}
    aliases = {}
    for name, field in handler.parsed_fn_signature.parameters.items():
        alias = getattr(field.kwarg_definition, "name", None)
        if alias and alias != name:
            aliases[name] = alias
    return aliases
