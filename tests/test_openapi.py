"""The committed OpenAPI document matches the code and documents every operation."""

from __future__ import annotations

import json
import re
import typing
import uuid
from typing import Any

import msgspec
import pytest
from litestar.handlers import HTTPRouteHandler

from tracker.api.app import create_app
from tracker.api.dependencies import MAX_KEY
from tracker.audit.as_of import parse_as_of
from tracker.cli import OPENAPI_PATH, openapi_document
from tracker.database import MAX_BIGINT
from tracker.domain import InvalidValue
from tracker.settings import Settings

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return dict(json.loads(openapi_document()))


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, item in document["paths"].items():
        if path.startswith("/docs"):
            continue
        found += [(path, m, item[m]) for m in METHODS if m in item]
    return found


def test_the_committed_document_matches_the_code() -> None:
    committed = OPENAPI_PATH.read_text()
    assert committed == openapi_document(), (
        "openapi/openapi.json drifted: run `uv run tracker openapi`"
    )


def test_every_operation_has_an_id_a_summary_and_examples(document: dict[str, Any]) -> None:
    ids = set()
    for path, method, op in operations(document):
        where = f"{method.upper()} {path}"
        assert op.get("operationId"), where
        assert op.get("summary"), where
        ids.add(op["operationId"])
        body = op.get("requestBody", {}).get("content", {})
        for media in body.values():
            assert media.get("examples"), f"{where}: no request example"
        for status, response in op["responses"].items():
            for media in response.get("content", {}).values():
                assert media.get("examples"), f"{where} {status}: no response example"
    assert len(ids) == len(operations(document)), "operation ids must be unique"


def test_every_protected_operation_uses_bearer_tokens_and_documents_its_errors(
    document: dict[str, Any],
) -> None:
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, method, op in operations(document):
        where = f"{method.upper()} {path}"
        if op.get("security") == [{}]:
            continue  # public, like /health: an empty requirement means no token
        assert "401" in op["responses"], where
        if method == "post":
            assert {"403", "422"} <= set(op["responses"]), where


def header_names(op: dict[str, Any]) -> set[str]:
    return {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}


def test_every_post_declares_an_idempotency_key_of_the_length_the_server_takes(
    document: dict[str, Any],
) -> None:
    for path, method, op in operations(document):
        if method != "post":
            continue
        keys = [p for p in op["parameters"] if p["name"] == "Idempotency-Key"]
        assert len(keys) == 1 and keys[0]["in"] == "header", f"POST {path}"
        assert keys[0]["schema"] == {"type": "string", "minLength": 1, "maxLength": MAX_KEY}
        assert "On-Behalf-Of" in header_names(op), f"POST {path}"
        for status, response in op["responses"].items():
            if status.startswith("2"):
                assert "Idempotent-Replayed" in response["headers"], f"POST {path} {status}"


def test_if_match_is_declared_exactly_where_a_412_can_answer(document: dict[str, Any]) -> None:
    for path, method, op in operations(document):
        where = f"{method.upper()} {path}"
        assert ("If-Match" in header_names(op)) == ("412" in op["responses"]), where
        if "412" in op["responses"]:
            assert "ETag" in op["responses"]["412"]["headers"], where
        # A command on an existing resource can be conditional; a creation cannot.
        if method == "post" and "201" not in op["responses"]:
            assert "412" in op["responses"], where


def test_on_behalf_of_is_a_uuid_the_client_sends_as_text(document: dict[str, Any]) -> None:
    for path, method, op in operations(document):
        for parameter in op.get("parameters", []):
            if parameter["name"] == "On-Behalf-Of":
                schema = parameter["schema"]
                assert schema["type"] == "string" and "format" not in schema, f"{method} {path}"
                assert re.fullmatch(schema["pattern"], str(uuid.uuid4()))
                assert not re.fullmatch(schema["pattern"], "ben")


def test_every_creation_declares_location_and_every_single_read_its_etag(
    document: dict[str, Any],
) -> None:
    for path, method, op in operations(document):
        where = f"{method.upper()} {path}"
        if "201" in op["responses"]:
            assert "Location" in op["responses"]["201"]["headers"], where
        if method == "get" and re.fullmatch(r"/[a-z-]+/\{[a-z_]+\}", path):
            assert "ETag" in op["responses"]["200"]["headers"], where


def test_every_error_is_a_problem_and_none_is_litestars_default(
    document: dict[str, Any],
) -> None:
    for path, method, op in operations(document):
        for status, response in op["responses"].items():
            where = f"{method.upper()} {path} {status}"
            assert "Validation Exception" not in json.dumps(response), where
            if status[0] in "45":
                content = response["content"]
                assert list(content) == ["application/problem+json"], where
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }, where
        if "401" in op["responses"]:
            assert {"400", "429", "503"} <= set(op["responses"]), f"{method} {path}"
        if "requestBody" in op:
            assert {"400", "413"} <= set(op["responses"]), f"{method} {path}"


def body_schemas(document: dict[str, Any]) -> set[str]:
    """The component schemas request bodies use, directly or nested."""
    schemas, found = document["components"]["schemas"], set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref and ref.rsplit("/", 1)[-1] not in found:
                found.add(ref.rsplit("/", 1)[-1])
                visit(schemas[ref.rsplit("/", 1)[-1]])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    for _, _, op in operations(document):
        visit(op.get("requestBody", {}))
    return found


def test_every_request_body_is_closed_as_the_server_refuses_unknown_fields(
    document: dict[str, Any],
) -> None:
    names = body_schemas(document)
    assert names
    for name in names:
        assert document["components"]["schemas"][name]["additionalProperties"] is False, name
    # The server's side of the rule: every struct a handler decodes a body into forbids them.
    structs = body_structs()
    assert {s.__name__ for s in structs} >= names
    for struct in structs:
        assert struct.__struct_config__.forbid_unknown_fields, struct.__name__


def body_structs() -> set[type[msgspec.Struct]]:
    """The structs handlers decode request bodies into, and every struct nested in them."""
    found: set[type[msgspec.Struct]] = set()

    def visit(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
            if annotation in found:
                return
            found.add(annotation)
            for hint in typing.get_type_hints(annotation).values():
                visit(hint)
            return
        for argument in typing.get_args(annotation):
            visit(argument)

    for route in create_app(Settings()).routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler):
                data = handler.parsed_fn_signature.parameters.get("data")
                if data is not None:
                    visit(data.annotation)
    return found


def test_no_parameter_is_nullable_and_integers_stay_within_a_bigint(
    document: dict[str, Any],
) -> None:
    for path, method, op in operations(document):
        for parameter in op.get("parameters", []):
            where = f"{method.upper()} {path} {parameter['name']}"
            schema = parameter["schema"]
            assert "null" not in json.dumps(schema.get("type")), where
            assert "oneOf" not in schema and "anyOf" not in schema, where
            assert None not in schema.get("enum", []), where
            if schema.get("type") == "integer":
                assert isinstance(schema["maximum"], int), where
                assert schema["maximum"] <= MAX_BIGINT, where


@pytest.mark.parametrize(
    ("value", "taken"),
    [
        ("1", True),
        ("123456789012345678", True),
        ("1234567890123456789", False),
        ("0", False),
        ("007", False),  # taken by the server, left out of the pattern
        ("2026-11-26T10:00:00Z", True),
        ("2026-11-26T10:00:00.5+01:00", True),
        ("2026-11-26T10:00:00", False),  # no offset
        ("1899-12-31T23:59:59Z", False),  # before the span
        ("2200-12-31T23:59:59-12:00", True),
        ("yesterday", False),
    ],
)
def test_as_of_is_described_as_the_server_parses_it(
    document: dict[str, Any], value: str, taken: bool
) -> None:
    patterns = {
        p["schema"]["pattern"]
        for _, _, op in operations(document)
        for p in op.get("parameters", [])
        if p["name"] == "as_of"
    }
    assert len(patterns) == 1
    matches = bool(re.match(patterns.pop(), value))
    assert matches is taken
    try:
        parse_as_of(value)
    except InvalidValue:
        # The pattern may be narrower than the server, never wider.
        assert not matches


def test_nullable_enums_are_one_enum_or_null(document: dict[str, Any]) -> None:
    def visit(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if "enum" in node:
                assert None not in node["enum"], where
                assert node.get("type") != "null", where
            for key, value in node.items():
                visit(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, f"{where}/{index}")

    visit(document, "")


def test_the_export_is_ndjson_with_a_schema_for_each_line(document: dict[str, Any]) -> None:
    answer = document["paths"]["/events/export"]["get"]["responses"]["200"]
    assert list(answer["content"]) == ["application/x-ndjson"]
    line = answer["content"]["application/x-ndjson"]["schema"]
    assert line == {"$ref": "#/components/schemas/ExportedEvent"}
    assert "position" in document["components"]["schemas"]["ExportedEvent"]["properties"]
