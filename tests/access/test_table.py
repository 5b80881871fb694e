"""The access table covers exactly the API's operations, every column, and renders the docs."""

from __future__ import annotations

import json

from tests.access.cells import ARRANGE
from tracker.application.access import COLUMNS, ROWS, render
from tracker.cli import ACCESS_PATH, openapi_document

METHODS = ("get", "post", "put", "patch", "delete")


def operation_ids() -> set[str]:
    """Every operation of the app's own OpenAPI document."""
    document = json.loads(openapi_document())
    return {
        item[m]["operationId"] for item in document["paths"].values() for m in METHODS if m in item
    }


def test_every_operation_of_the_api_has_a_row_and_every_row_an_operation() -> None:
    ids = operation_ids()
    assert sorted(ids - set(ROWS)) == [], "operations with no access rules: add a row to ROWS"
    assert sorted(set(ROWS) - ids) == [], "rows for operations the API does not have"


def test_every_row_gives_every_column_an_outcome() -> None:
    for operation, row in ROWS.items():
        assert list(row) == list(COLUMNS), operation
        assert set(row.values()) <= {200, 401, 403, 404, 422}, operation


def test_every_operation_has_an_arrange_function_and_no_other() -> None:
    assert sorted(set(ROWS) - set(ARRANGE)) == [], "operations no cell can be arranged for"
    assert sorted(set(ARRANGE) - set(ROWS)) == []


def test_the_committed_access_page_is_the_rendered_table() -> None:
    assert ACCESS_PATH.read_text() == render(), (
        "docs/access.md drifted: run `uv run tracker access`"
    )
