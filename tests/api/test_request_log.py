"""One log line per request; its correlation id is the answer's and the events' too."""

from __future__ import annotations

import io
import json
import logging
import uuid
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tracker.observability import logs
from tracker.observability.logs import JsonFormatter

Client = AsyncTestClient[Litestar]
ORGANISATION = {"name": "Northshire", "kind": "nhs"}


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="tracker.request")
    return caplog


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The request log's records, as the JSON format writes them."""
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == "tracker.request"]


async def stored_correlation(pool: asyncpg.Pool, stream_id: str) -> str:
    found = await pool.fetchval(
        "SELECT correlation_id FROM events WHERE stream_id = $1", uuid.UUID(stream_id)
    )
    return str(found)


async def test_a_command_is_logged_with_its_route_status_caller_and_the_callers_correlation_id(
    client: Client, issue: Tokens, pool: asyncpg.Pool, lines: pytest.LogCaptureFixture
) -> None:
    given = str(uuid.uuid4())
    admin = await issue.headers("admin", **{"X-Correlation-Id": given})
    r = await client.post("/organisations", json=ORGANISATION, headers=admin)

    assert r.status_code == 201, r.text
    assert r.headers["x-correlation-id"] == given
    [line] = request_lines(lines)
    assert line["method"] == "POST"
    assert line["route"] == "/organisations"
    assert line["path"] == "/organisations"
    assert line["status"] == 201
    assert line["duration_ms"] > 0
    assert line["principal"] == "admin:test-admin"
    assert line["correlation_id"] == given
    assert line["level"] == "info" and line["logger"] == "tracker.request"
    assert await stored_correlation(pool, r.json()["stream_id"]) == given


async def test_without_a_correlation_id_one_is_made_and_shared_by_the_answer_line_and_events(
    client: Client, issue: Tokens, pool: asyncpg.Pool, lines: pytest.LogCaptureFixture
) -> None:
    r = await client.post("/organisations", json=ORGANISATION, headers=await issue.headers("admin"))

    made = r.headers["x-correlation-id"]
    assert uuid.UUID(made)
    [line] = request_lines(lines)
    assert line["correlation_id"] == made
    assert await stored_correlation(pool, r.json()["stream_id"]) == made


async def test_a_w3c_trace_id_serves_as_the_correlation_id(
    client: Client, issue: Tokens, pool: asyncpg.Pool, lines: pytest.LogCaptureFixture
) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    admin = await issue.headers("admin", traceparent=f"00-{trace}-00f067aa0ba902b7-01")
    r = await client.post("/organisations", json=ORGANISATION, headers=admin)

    assert r.headers["x-correlation-id"] == str(uuid.UUID(hex=trace))
    assert await stored_correlation(pool, r.json()["stream_id"]) == str(uuid.UUID(hex=trace))


async def test_a_malformed_correlation_id_on_a_command_is_refused_and_still_logged(
    client: Client, issue: Tokens, pool: asyncpg.Pool, lines: pytest.LogCaptureFixture
) -> None:
    admin = await issue.headers("admin", **{"X-Correlation-Id": "not-a-uuid"})
    r = await client.post("/organisations", json=ORGANISATION, headers=admin)

    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "X-Correlation-Id"
    [line] = request_lines(lines)
    assert line["status"] == 400
    assert line["correlation_id"] == r.headers["x-correlation-id"] != "not-a-uuid"
    assert await pool.fetchval("SELECT count(*) FROM events") == 0


async def test_unrouted_and_anonymous_requests_are_logged_too(
    client: Client, lines: pytest.LogCaptureFixture
) -> None:
    missing = await client.get("/no-such-thing")
    refused = await client.get(f"/organisations/{uuid.uuid4()}")

    assert (missing.status_code, refused.status_code) == (404, 401)
    first, second = request_lines(lines)
    assert (first["route"], first["status"], first["principal"]) == ("(unrouted)", 404, None)
    assert (second["route"], second["status"]) == ("/organisations/{organisation_id}", 401)


def test_the_json_format_writes_one_object_a_line_and_the_text_format_a_readable_line() -> None:
    record = logging.makeLogRecord(
        {"name": "tracker.request", "levelno": 20, "levelname": "INFO", "msg": "GET / 200"}
    )
    record.route = "/"
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        for form, expected in (
            ("json", '"route":"/"'),
            ("text", "INFO tracker.request: GET / 200"),
        ):
            logs.configure("info", form)
            [handler] = [h for h in root.handlers if h not in before]
            stream = io.StringIO()
            assert isinstance(handler, logging.StreamHandler)
            handler.setStream(stream)
            handler.handle(record)
            written = stream.getvalue()
            assert written.count("\n") == 1 and expected in written
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(level)
