"""Per-request dependencies: the authenticated principal and the command's conditions."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException

from tracker.api.access_log import log_auditor_access
from tracker.api.problems import FieldError, Refused, problem
from tracker.api.request_log import correlation_id
from tracker.application.admission import admit
from tracker.application.commands import Commands
from tracker.application.commands import Request as CommandRequest
from tracker.application.principal import INTEGRATION, Principal
from tracker.eventstore.repository import Repository
from tracker.tokens import Authenticator

MAX_KEY = 200
MAX_SOURCE = 200
# An entity tag as the API hands it out ("3"), or the bare digits; at most a bigint's digits.
_VERSION = re.compile(r'"([0-9]{1,18})"|([0-9]{1,18})')
# The interactive API documentation and the OpenAPI document are public.
PUBLIC_PATHS = ("/docs",)

# Handlers name their dependencies explicitly (inferred ones go away in Litestar 3).
PrincipalDep = NamedDependency[Principal]
Call = NamedDependency[CommandRequest]
CommandsDep = NamedDependency[Commands]
RepositoryDep = NamedDependency[Repository]


async def authenticate(request: Request[Any, Any, Any]) -> None:
    """Before every handler: resolve the caller (on a public route, only one who sent a token),
    and log an auditor's read of anything but a public route.

    A before-request hook rather than a guard: litestar copies the handler for each guard call,
    which cost more than the rest of authentication. It runs before the body is parsed and the
    dependencies are resolved, so an unauthenticated request is refused without that work.
    """
    if request.route_handler.opt.get("public"):
        # A public route tells a caller with a valid token more (GET /health); one sent is
        # checked like any other, so that it cannot serve to test tokens unthrottled.
        if "authorization" in request.headers:
            request.scope.setdefault("state", {})["principal"] = await _principal(request)
        return
    if request.scope["path"].startswith(PUBLIC_PATHS):
        return
    principal = await _principal(request)
    request.scope.setdefault("state", {})["principal"] = principal
    # No auditor read is served unless its access log row was written first.
    await log_auditor_access(request, principal)


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The caller authenticate() resolved."""
    principal: Principal = request.scope["state"]["principal"]
    return principal


async def _principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The caller behind the bearer token; 401 without a valid one."""
    request, state = connection, connection.app.state
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthorizedException("a bearer token is required")
    authenticator: Authenticator = state.authenticator
    principal, fresh = await authenticator.lookup(token.strip())
    if principal is None:
        raise _failed(authenticator, connection)
    await admit(state.repository, principal, fresh=fresh)
    on_behalf = request.headers.get("on-behalf-of")
    if on_behalf:
        if principal.kind != INTEGRATION:
            raise _bad_header("On-Behalf-Of", "only integrations act on behalf of a leader")
        principal = principal.acting_for(_uuid_header("On-Behalf-Of", on_behalf))
    return principal


def _failed(
    authenticator: Authenticator, connection: ASGIConnection[Any, Any, Any, Any]
) -> Exception:
    """401 for a token that is not valid; 429 once its address has failed too often."""
    client = connection.client.host if connection.client else "unknown"
    wait = authenticator.throttle.failed(client)
    if wait is None:
        return NotAuthorizedException("the bearer token is unknown, revoked or expired")
    detail = (
        f"more than {authenticator.throttle.limit} failed authentications from this address "
        f"within {authenticator.throttle.window.seconds} s; retry after {wait} s"
    )
    return Refused(
        problem(429, "too-many-failed-authentications", "Too many failed authentications", detail),
        {"Retry-After": str(wait)},
    )


async def provide_call(request: Request[Any, Any, Any], principal: PrincipalDep) -> CommandRequest:
    """If-Match, Idempotency-Key and a fingerprint of the request, for the service layer."""
    headers = request.headers
    key = headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= MAX_KEY):
        raise _bad_header("Idempotency-Key", f"must be 1 to {MAX_KEY} characters")
    body = await request.body()
    fingerprint = hashlib.sha256(
        b"\n".join([request.method.encode(), request.scope["path"].encode(), body])
    ).digest()
    correlation = headers.get("x-correlation-id")
    if correlation:
        _uuid_header("X-Correlation-Id", correlation)  # a malformed one is refused, not replaced
    return CommandRequest(
        principal=principal,
        if_match=_if_match(headers.get("if-match")),
        idempotency_key=key,
        fingerprint=fingerprint,
        # From the token, never from a header, so that no client can claim another source.
        source=source(principal),
        # The id the request is logged under: the caller's, its trace id, or a new one.
        correlation_id=correlation_id(request.scope),
    )


def source(principal: Principal) -> str:
    """The envelope's source for a request: the API, and the kind and name of its token."""
    return f"api:{principal.kind}:{principal.name}"[:MAX_SOURCE]


def provide_commands(state: State, call: Call) -> Commands:
    """The service layer, over the app's repository."""
    # It takes the call only to be resolved after it: litestar resolves dependencies of equal
    # depth concurrently in a task group, which measured a fifth of a command's CPU time.
    del call
    # Typed, so that mypy checks the event store's repository against the application's port.
    repository: Repository = state.repository
    return Commands(repository, state.now)


def provide_repository(state: State) -> Repository:
    """The repository for reads of single resources."""
    repository: Repository = state.repository
    return repository


def _if_match(value: str | None) -> int | None:
    if value is None:
        return None
    # Strictly a version: int() would take "1_0" for 10, and a weak W/"3" cannot be compared
    # strongly (RFC 9110); the bare digits stay accepted as they always were.
    version = _VERSION.fullmatch(value.strip())
    if version is None:
        raise _bad_header("If-Match", 'must be a version number in quotes, such as "3"')
    return int(version.group(1) or version.group(2))


def _uuid_header(name: str, value: str) -> UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _bad_header(name, "must be a UUID") from None


def _bad_header(name: str, message: str) -> Refused:
    return Refused(
        problem(
            400,
            "bad-header",
            "Bad header",
            f"{name}: {message}",
            errors=[FieldError(name, message)],
        )
    )
