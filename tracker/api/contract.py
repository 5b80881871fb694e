"""The rules every operation's OpenAPI entry follows, so that a generated client can use it all.

Applied by rule to the whole document, not per handler, so a new operation follows them too:
the headers a command reads and sends, problem details for every error, closed request bodies,
and parameter schemas as narrow as the checks the server makes.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    Schema,
)

from tracker.api.dependencies import MAX_KEY
from tracker.api.time_travel import AS_OF_PATTERN
from tracker.database import MAX_BIGINT

PROBLEM_JSON = "application/problem+json"
PROBLEM = Reference(ref="#/components/schemas/Problem")
# A GET of one resource by its id (/meetings/{meeting_id}) answers its state with an ETag.
ONE_RESOURCE = re.compile(r"^/[a-z-]+/\{[a-z_]+\}$")
VERSION_TAG = r'^"[0-9]{1,18}"$'
# A UUID header as text: with `format: uuid` a generated client passes a UUID object as the
# header's value, which its HTTP library refuses.
UUID_TEXT = Schema(
    type=OpenAPIType.STRING,
    pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
)

IDEMPOTENCY_KEY = Parameter(
    name="Idempotency-Key",
    param_in="header",
    required=False,
    description=(
        "Makes the command safe to retry: a repeat with the same key and request returns the "
        "first answer (with `Idempotent-Replayed: true`) and writes nothing; the same key with "
        "another request is a 422 (`idempotency-key-reused`). A key belongs to its sender. "
        f"1 to {MAX_KEY} characters, otherwise a 400 naming `Idempotency-Key`."
    ),
    schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=MAX_KEY),
)
IF_MATCH = Parameter(
    name="If-Match",
    param_in="header",
    required=False,
    description=(
        'The version the command expects, as the ETag hands it out (`"3"`) or its bare digits; '
        "a 412 with `current_version` if the resource is at another one. Anything else "
        '(`W/"3"`, `*`, a list) is a 400 naming `If-Match`. Without it the command applies to '
        "the latest state."
    ),
    schema=Schema(type=OpenAPIType.STRING, pattern=r'^[ \t]*("[0-9]{1,18}"|[0-9]{1,18})[ \t]*$'),
)
ON_BEHALF_OF = Parameter(
    name="On-Behalf-Of",
    param_in="header",
    required=False,
    description=(
        "Integrations only: the leader this command is recorded for, who must be a member of "
        "the forum concerned now (a 403 naming the rule otherwise). Sent by any other kind of "
        "caller, or not a UUID, it is a 400 naming `On-Behalf-Of`."
    ),
    schema=UUID_TEXT,
)
CORRELATION_ID = Parameter(
    name="X-Correlation-Id",
    param_in="header",
    required=False,
    description=(
        "Recorded as the events' `correlation_id`, to tie them to the caller's own work; "
        "not a UUID, it is a 400 naming `X-Correlation-Id`."
    ),
    schema=UUID_TEXT,
)

ETAG = OpenAPIHeader(
    required=True,
    description='The resource\'s version, quoted (`"3"`): send it as If-Match to make a '
    "command conditional",
    schema=Schema(type=OpenAPIType.STRING, pattern=VERSION_TAG),
)
CURRENT_ETAG = OpenAPIHeader(
    required=True,
    description='The resource\'s current version, quoted (`"4"`)',
    schema=Schema(type=OpenAPIType.STRING, pattern=VERSION_TAG),
)
LOCATION = OpenAPIHeader(
    required=True,
    description="The new resource's path (`/meetings/{id}`), also for a replayed creation",
    schema=Schema(type=OpenAPIType.STRING, pattern=r"^/[a-z-]+/[0-9a-f-]{36}$"),
)
REPLAYED = OpenAPIHeader(
    description=(
        "`true` when this is the first answer to an earlier request with the same "
        "Idempotency-Key (or external reference), replayed without writing anything; absent "
        "on a first answer"
    ),
    schema=Schema(type=OpenAPIType.STRING, enum=["true"]),
)

# Errors every operation of a kind can give, beyond those its handler declares.
TOKEN_ERRORS = {
    "400": "A malformed header: On-Behalf-Of from a caller that is not an integration, or any "
    "header the server reads that is not in its documented form; `errors` names it",
    "503": "The database could not be reached, or refuses writes for now (a full disk, read-only: "
    "`detail` says which); retry after Retry-After seconds (a command with the same "
    "Idempotency-Key, to learn whether it was applied)",
}
BODY_ERRORS = {
    "400": "The body is not JSON, not UTF-8 or nested too deeply (`errors` names `body`), or a "
    "header is malformed (`errors` names it)",
    "413": "The body is larger than the server accepts (10 MB)",
}


def complete(document: OpenAPI, commands: set[str]) -> None:
    """Apply every rule to every operation; commands are the operations that read a command's
    headers (their handlers take the `call` dependency)."""
    for path, method, operation in operations(document):
        command = operation.operation_id in commands
        _request_headers(operation, command)
        _response_headers(operation, path, method, command)
        _errors(operation)
        for parameter in operation.parameters or []:
            if isinstance(parameter, Parameter) and parameter.schema is not None:
                parameter.schema = _parameter_schema(parameter)
    schemas = document.components.schemas if document.components else None
    for name in _body_schemas(document):
        if schemas and name in schemas:
            schemas[name].additional_properties = False
    for schema in (schemas or {}).values():
        _walk(schema)


def command_operations(app: Litestar) -> set[str]:
    """The operations whose handlers take the `call` dependency, which reads a command's
    headers (tracker/api/dependencies.py: provide_call)."""
    return {
        str(handler.operation_id)
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if isinstance(handler, HTTPRouteHandler)
        and "call" in handler.parsed_fn_signature.parameters
    }


def operations(document: OpenAPI) -> Iterator[tuple[str, str, Operation]]:
    """Every operation of the document, with its path and method."""
    for path, item in (document.paths or {}).items():
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method)
            if isinstance(operation, Operation):
                yield path, method, operation


def _request_headers(operation: Operation, command: bool) -> None:
    """The headers a command reads: the rule for which operation takes which is here alone."""
    if not command:
        return
    headers = [IDEMPOTENCY_KEY, ON_BEHALF_OF, CORRELATION_ID]
    if "412" in (operation.responses or {}):
        # Only a command on an existing resource compares versions; a creation ignores it.
        headers.insert(1, IF_MATCH)
    operation.parameters = [*(operation.parameters or []), *headers]


def _response_headers(operation: Operation, path: str, method: str, command: bool) -> None:
    for status, response in (operation.responses or {}).items():
        if not isinstance(response, OpenAPIResponse):
            continue
        headers = dict(response.headers or {})
        if status == "201":
            headers["Location"] = LOCATION
        if command and status.startswith("2"):
            headers["Idempotent-Replayed"] = REPLAYED
        if status == "200" and method == "get" and ONE_RESOURCE.match(path):
            headers["ETag"] = ETAG
        if status == "412":
            headers["ETag"] = CURRENT_ETAG
        response.headers = headers or None


def _errors(operation: Operation) -> None:
    """Problem details for every error the operation can give, and none of litestar's own."""
    responses = operation.responses or {}
    extra: dict[str, str] = {}
    if "401" in responses:
        extra |= TOKEN_ERRORS
    if operation.request_body is not None:
        extra |= BODY_ERRORS
    for status, description in extra.items():
        response = responses.get(status)
        if not isinstance(response, OpenAPIResponse) or PROBLEM_JSON not in (
            response.content or {}
        ):
            # Replaces litestar's default 400 (application/json, a ValidationException with an
            # `extra` of three types): the server never sends it; bad parameters are 422s.
            responses[status] = _problem(description)
    for status, response in responses.items():
        if status[0] in "45" and isinstance(response, OpenAPIResponse):
            content = response.content or {}
            if set(content) != {PROBLEM_JSON}:
                responses[status] = _problem(response.description, response.headers)
    operation.responses = dict(sorted(responses.items()))


def _problem(
    description: str, headers: dict[str, OpenAPIHeader | Reference] | None = None
) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description,
        headers=headers,
        content={PROBLEM_JSON: OpenAPIMediaType(schema=PROBLEM)},
    )


def _parameter_schema(parameter: Parameter) -> Schema | Reference:
    """A parameter's schema as narrow as the server's checks: never null (a parameter is sent
    or not), as_of's two forms, and integer bounds as integers."""
    schema = parameter.schema
    if isinstance(schema, Reference) or schema is None:
        return schema  # type: ignore[return-value]
    schema = _without_null(schema)
    if parameter.name == "as_of" and parameter.param_in == "query":
        schema = dataclasses.replace(schema, pattern=AS_OF_PATTERN)
    if schema.type == OpenAPIType.INTEGER:
        schema = dataclasses.replace(
            schema, minimum=_integer(schema.minimum), maximum=_integer(schema.maximum)
        )
    return schema


def _integer(bound: float | None) -> int | None:
    """A bound as an integer: a float maximum of 2**63 would claim one more than a bigint."""
    if bound is None:
        return None
    return min(int(bound), MAX_BIGINT)


def _without_null(schema: Schema) -> Schema:
    """The schema with its null option removed, and the outer constraints moved onto the rest."""
    options = schema.one_of or schema.any_of
    if options:
        rest = [o for o in options if not _is_null(o)]
        if len(rest) == 1 and isinstance(rest[0], Schema):
            outer = {
                f.name: getattr(schema, f.name)
                for f in dataclasses.fields(Schema)
                if f.name not in ("one_of", "any_of") and getattr(schema, f.name) is not None
            }
            return dataclasses.replace(rest[0], **outer)
    if isinstance(schema.type, list) and OpenAPIType.NULL in schema.type:
        kinds = [t for t in schema.type if t != OpenAPIType.NULL]
        enum = [v for v in schema.enum] if schema.enum else None
        return dataclasses.replace(
            schema,
            type=kinds[0] if len(kinds) == 1 else kinds,
            enum=[v for v in enum if v is not None] if enum else None,
        )
    return schema


def _walk(schema: Schema | Reference) -> None:
    """Rewrite every nullable enum inside a schema as one of the enum or null."""
    if isinstance(schema, Reference):
        return
    for name, sub in list((schema.properties or {}).items()):
        if isinstance(sub, Schema) and _nullable_enum(sub):
            assert schema.properties is not None
            schema.properties[name] = _enum_or_null(sub)
        else:
            _walk(sub)
    for options in (schema.one_of, schema.any_of, schema.all_of):
        for option in options or []:
            _walk(option)
    if isinstance(schema.items, Schema):
        _walk(schema.items)


def _nullable_enum(schema: Schema) -> bool:
    return bool(schema.enum) and isinstance(schema.type, list) and OpenAPIType.NULL in schema.type


def _enum_or_null(schema: Schema) -> Schema:
    """`{type: [null, string], enum: [..., null]}` made a generated client emit three copies of
    the enum's class; `oneOf: [{enum}, {type: null}]` makes it emit one."""
    values = [v for v in schema.enum or [] if v is not None]
    kinds = [OpenAPIType(t) for t in schema.type or () if t != OpenAPIType.NULL]
    enum = Schema(type=kinds[0] if len(kinds) == 1 else kinds, enum=values)
    return dataclasses.replace(
        schema, type=None, enum=None, one_of=[enum, Schema(type=OpenAPIType.NULL)]
    )


def _is_null(schema: Schema | Reference) -> bool:
    return isinstance(schema, Schema) and schema.type == OpenAPIType.NULL


def _body_schemas(document: OpenAPI) -> set[str]:
    """The component schemas a request body uses, directly or nested."""
    schemas = document.components.schemas if document.components else None
    found: set[str] = set()

    def visit(schema: Schema | Reference | None) -> None:
        if schema is None:
            return
        if isinstance(schema, Reference):
            name = schema.ref.rsplit("/", 1)[-1]
            if name not in found and schemas and name in schemas:
                found.add(name)
                visit(schemas[name])
            return
        for sub in (schema.properties or {}).values():
            visit(sub)
        for options in (schema.one_of, schema.any_of, schema.all_of):
            for option in options or []:
                visit(option)
        if isinstance(schema.items, (Schema, Reference)):
            visit(schema.items)

    for _path, _method, operation in operations(document):
        body = operation.request_body
        if body is None or isinstance(body, Reference):
            continue
        for media in (body.content or {}).values():
            visit(media.schema)
    return found
