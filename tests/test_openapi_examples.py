"""Every example in the OpenAPI document is valid against the schema it illustrates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tracker.cli import openapi_document

METHODS = ("get", "post", "put", "patch", "delete")


def examples(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, value) for each example of a request or response body."""
    for path, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            bodies = [("request", operation.get("requestBody", {}))]
            bodies += [(status, answer) for status, answer in operation["responses"].items()]
            for part, body in bodies:
                for media_type, media in body.get("content", {}).items():
                    for name, example in media.get("examples", {}).items():
                        where = f"{method.upper()} {path} {part} {media_type} {name}"
                        yield where, media["schema"], example["value"]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return dict(json.loads(openapi_document()))


def test_every_example_is_valid_against_its_schema(document: dict[str, Any]) -> None:
    found = list(examples(document))
    assert len(found) > 100  # every operation documents its bodies
    invalid = []
    for where, schema, value in found:
        # The schema travels with the document's components, so its references resolve.
        root = schema | {"components": document["components"]}
        validator = Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)
        invalid += [
            f"{where}: {error.json_path}: {error.message}" for error in validator.iter_errors(value)
        ]
    assert invalid == [], "\n".join(invalid[:20])


def test_the_check_finds_an_example_that_breaks_its_schema(document: dict[str, Any]) -> None:
    schema = {"$ref": "#/components/schemas/Problem", "components": document["components"]}
    validator = Draft202012Validator(schema)
    assert not validator.is_valid({"status": "four hundred"})
