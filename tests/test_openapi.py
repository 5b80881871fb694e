"""The committed OpenAPI document matches the code and documents every operation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tracker.cli import OPENAPI_PATH, openapi_document

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
