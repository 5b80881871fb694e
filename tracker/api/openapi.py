"""Request and response examples for every operation, derived from the schemas.

Examples are built from each body's JSON schema with realistic values chosen by field name,
so every operation documents a valid request and a typical answer without hand-kept copies
that drift from the code.
"""

from __future__ import annotations

from typing import Any

from litestar.openapi.spec import (
    Example,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

SAMPLE_ID = "3f2b8c1e-7d4a-4e0b-9a61-2c5d8e9f0a17"
STRINGS = {
    "name": "Warm Spaces Partnership",
    "title": "Winter pressures",
    "description": "Open the central library as a warm space on weekday evenings",
    "statement": "Nobody in the borough is cold and alone this winter",
    "text": "Agreed to pool volunteer rotas across the three sites",
    "reason": "The venue is closed for repairs until January",
    "note": "Two of three sites open",
    "email": "amina.khan@example.org",
    "timezone": "Europe/London",
    "kind": "council",
    "role": "recorder",
    "status": "active",
    "decision_rule": "consent",
    "scope": "forum",
    "location": "Town Hall, Committee Room 2",
    "source_system": "minutes-tool",
    "external_id": "minutes-2026-11-26-item-3",
    "checkpoint": "48213:1077",
    "type": "https://commitment-tracker.example/problems/validation",
    "detail": "invalid: due_on",
}
FORMATS = {
    "uuid": SAMPLE_ID,
    "date": "2026-12-18",
    "date-time": "2026-11-26T10:00:00Z",
    "email": "amina.khan@example.org",
}

NUMBERS = {"events_per_second": 412.5, "lag_seconds": 0.4, "mean_progress": 62.5}
# Values for fields of any JSON type (an event's payload, a field's value before and after).
ANY_JSON: dict[str, Any] = {
    "payload": {"percent": 40, "note": "Two of three sites open"},
    "before": "2026-12-18",
    "after": "2027-01-15",
}
# Deep enough for the deepest body (a meeting's view); a guard against a schema that nests itself.
MAX_DEPTH = 12

# Bodies whose fields exclude one another, where an example of every field would be refused.
UNDER_RULE = {"decision_rule_id": SAMPLE_ID, "meeting_id": SAMPLE_ID}
BODY_EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "adoptPurpose": {"underRuleInForce": UNDER_RULE},
    "adoptAgreement": {
        "underRuleInForce": UNDER_RULE,
        "bootstrapConsent": {
            "bootstrap": "consent",
            "consented_by": [SAMPLE_ID, "9c41d7a2-5be8-4f13-8d20-6a7e3b1c4f58"],
            "meeting_id": SAMPLE_ID,
        },
    },
}

PROBLEM_TYPE = "https://commitment-tracker.example/problems/"
PROBLEMS: dict[str, dict[str, Any]] = {
    "400": {
        "type": PROBLEM_TYPE + "malformed-request",
        "title": "Malformed request",
        "status": 400,
        "detail": "JSON is malformed: expected ',' or '}' (byte 57)",
    },
    "401": {
        "type": PROBLEM_TYPE + "unauthorized",
        "title": "Unauthorized",
        "status": 401,
        "detail": "a bearer token is required",
    },
    "403": {
        "type": PROBLEM_TYPE + "not-allowed",
        "title": "Not allowed",
        "status": 403,
        "detail": "only-owner-can-complete",
        "rule": "only-owner-can-complete",
    },
    "404": {
        "type": PROBLEM_TYPE + "not-found",
        "title": "Not found",
        "status": 404,
        "detail": f"commitment {SAMPLE_ID} not found",
    },
    "409": {
        "type": PROBLEM_TYPE + "illegal-transition",
        "title": "Not possible in the current state",
        "status": 409,
        "detail": "cannot accept when active",
        "command": "accept",
        "current_state": "active",
    },
    "412": {
        "type": PROBLEM_TYPE + "precondition-failed",
        "title": "Version does not match If-Match",
        "status": 412,
        "detail": f"{SAMPLE_ID} is at version 4, not 3",
        "stream_id": SAMPLE_ID,
        "current_version": 4,
    },
    "422": {
        "type": PROBLEM_TYPE + "validation",
        "title": "Invalid request",
        "status": 422,
        "detail": "invalid: due_on",
        "errors": [{"field": "due_on", "message": "Expected `date`"}],
    },
    "429": {
        "type": PROBLEM_TYPE + "too-many-failed-authentications",
        "title": "Too many failed authentications",
        "status": 429,
        "detail": "more than 20 failed authentications from this address within 10 s; "
        "retry after 7 s",
    },
    "503": {
        "type": PROBLEM_TYPE + "database-unavailable",
        "title": "Database unavailable",
        "status": 503,
        "detail": "the database could not be reached, or went away during the request: a "
        "command may or may not have been applied; retry it with the same Idempotency-Key to "
        "learn its outcome without applying it twice",
    },
}


# Every operation that checks a token may refuse a deactivated leader's (403), and a client
# address that keeps sending tokens that are not valid (429).
TOKEN_REFUSALS = {
    "403": "A rule refuses this caller; `rule` names it (a deactivated leader's token: "
    "`deactivated-leaders-cannot-act`)",
    "429": "More than 20 failed authentications from this address within 10 s; retry after "
    "Retry-After seconds (a request with a valid token is never refused so)",
}
RETRY_AFTER: dict[str, OpenAPIHeader | Reference] = {
    "Retry-After": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.INTEGER, minimum=1),
        description="Seconds to wait before trying again",
    )
}


def finish(document: OpenAPI, public: set[str]) -> None:
    """Add examples everywhere, and mark the public operations as needing no token."""
    schemas = document.components.schemas or {} if document.components else {}
    for path in (document.paths or {}).values():
        for operation in (path.get, path.post, path.put, path.patch, path.delete):
            if isinstance(operation, Operation):
                _token_refusals(operation)
                _retry_after(operation)
                _operation(operation, schemas)
                if operation.operation_id in public:
                    operation.security = [{}]


def _token_refusals(operation: Operation) -> None:
    """Declare the refusals of tokens on every operation that can answer 401."""
    responses = operation.responses or {}
    if "401" not in responses:
        return
    for status, description in TOKEN_REFUSALS.items():
        if status not in responses:
            responses[status] = OpenAPIResponse(
                description=description,
                headers=RETRY_AFTER if status == "429" else None,
                content={
                    "application/problem+json": OpenAPIMediaType(
                        schema=Reference(ref="#/components/schemas/Problem")
                    )
                },
            )


def _retry_after(operation: Operation) -> None:
    """Declare Retry-After on every 429 and 503 problem, which always sends it."""
    for status, response in (operation.responses or {}).items():
        if (
            status in ("429", "503")
            and isinstance(response, OpenAPIResponse)
            and "application/problem+json" in (response.content or {})
        ):
            response.headers = RETRY_AFTER | (response.headers or {})


def _operation(operation: Operation, schemas: dict[str, Schema]) -> None:
    body = operation.request_body
    if body is not None and not isinstance(body, Reference):
        for media in (body.content or {}).values():
            chosen = BODY_EXAMPLES.get(operation.operation_id or "")
            if chosen is not None:
                media.examples = {name: Example(value=value) for name, value in chosen.items()}
            elif media.schema is not None and not media.examples:
                media.examples = {"example": Example(value=_value(media.schema, schemas, ""))}
    for status, response in (operation.responses or {}).items():
        if isinstance(response, Reference):
            continue
        for media_type, media in (response.content or {}).items():
            if media.schema is None or media.examples:
                continue
            if media_type == "application/problem+json" and status in PROBLEMS:
                value = PROBLEMS[status]
            else:
                value = _value(media.schema, schemas, "")
            media.examples = {"example": Example(value=value)}


def _value(
    schema: Schema | Reference, schemas: dict[str, Schema], name: str, depth: int = 0
) -> Any:
    """A plausible value for a schema, chosen by the field's name where that helps.

    Never null: the document leaves null example values out, which would leave a required
    field missing; a nullable field gets a value of its other type.
    """
    if isinstance(schema, Reference):
        schema = schemas[schema.ref.rsplit("/", 1)[-1]]
    if depth > MAX_DEPTH:
        return None
    if schema.examples:
        return schema.examples[0] if isinstance(schema.examples, list) else None
    if schema.one_of or schema.any_of:
        options = [s for s in (schema.one_of or schema.any_of or []) if not _is_null(s)]
        return _value(options[0], schemas, name, depth + 1) if options else None
    if schema.enum:
        return schema.enum[0]
    kind = getattr(schema.type, "value", None)
    if kind == "object" or schema.properties:
        return {
            key: _value(sub, schemas, key, depth + 1)
            for key, sub in (schema.properties or {}).items()
            if key in (schema.required or []) or depth == 0
        }
    if kind == "array":
        item = schema.items if schema.items is not None else Schema()
        return [_value(item, schemas, name.removesuffix("s"), depth + 1)]
    if kind == "integer":
        return {"percent": 40, "status": 422}.get(name, 3)
    if kind == "number":
        return NUMBERS.get(name, 1.5)
    if kind == "boolean":
        return False
    if kind == "string":
        if schema.format is not None:
            return FORMATS.get(schema.format.value, "")
        return STRINGS.get(name, name.replace("_", " ") or "text")
    return ANY_JSON.get(name, name.replace("_", " ") or "text") if kind is None else None


def _is_null(schema: Schema | Reference) -> bool:
    return (
        isinstance(schema, Schema)
        and schema.type is not None
        and getattr(schema.type, "value", "") == "null"
    )
