"""Export and import: a generated history exported, imported into a new database, and found
identical there: every event row and hash, the global order, the leaves, and the views."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.conftest import migrated
from tests.eventstore.helpers import CTX, to_stream
from tests.projections.history import History
from tracker import tokens
from tracker.api.app import create_app
from tracker.api.resources.event_export import RULE
from tracker.application.errors import IdempotencyKeyReused
from tracker.audit import seals
from tracker.audit.export import ExportFilter, export
from tracker.audit.importer import ImportRefused, import_log
from tracker.audit.keys import SigningKey
from tracker.audit.verify import verify
from tracker.database import create_pool
from tracker.eventstore import EventStore
from tracker.eventstore.repository import Repository
from tracker.settings import Settings

ROWS = """
SELECT position, stream_id, stream_type, version, type, type_version, payload::text,
       occurred_at, recorded_at, actor, on_behalf_of, source, correlation_id, causation_id, hash,
       idempotency_key, request_digest
FROM events ORDER BY transaction_id, position
"""
NewDatabase = Callable[[], Awaitable[str]]


async def generate(repository: Repository, pool: asyncpg.Pool, seed: int, at_least: int) -> int:
    """A random valid history through the domain, in many transactions."""
    history = History(seed=seed, leaders=20, forums=3)
    count = 0
    while count < at_least:
        for _ in range(15):
            history.step()
        await history.flush(repository)
        count = int(await pool.fetchval("SELECT count(*) FROM events"))
    return count


async def exported(pool: asyncpg.Pool, count: int, only: ExportFilter | None = None) -> bytes:
    """The export, once every event is below the horizon (another transaction on the test
    server may hold it back for a moment; the export waits there rather than skip)."""
    for _ in range(500):
        data = b"".join([chunk async for chunk in export(pool, only)])
        if data.count(b"\n") >= count:
            return data
        await asyncio.sleep(0.01)
    raise AssertionError(f"never exported {count} events")


async def views(pool: asyncpg.Pool) -> dict[str, list[Any]]:
    """Every row of every public view table, as JSON, in a stable order."""
    # Less the transaction ids of the rows' events: an import writes the log in transactions
    # of its own, in the same order (positions are kept).
    out = {}
    for projection in all_projections():
        for table in projection.tables:
            row = "to_jsonb(t) - 'opened_tx'"
            sql = f"SELECT {row} AS r FROM public.{table} t ORDER BY ({row})::text"
            out[table] = [r[0] for r in await pool.fetch(sql)]
    return out


async def caught_up(pool: asyncpg.Pool, url: str) -> dict[str, list[Any]]:
    runner = ProjectionRunner(EventStore(pool), all_projections(), lambda: asyncpg.connect(url))
    await runner.run_until_caught_up()
    return await views(pool)


@pytest.fixture
async def empty(new_database: NewDatabase) -> AsyncIterator[tuple[asyncpg.Pool, str]]:
    """A pool over a new, migrated, empty database."""
    url = await migrated(new_database)
    pool = await create_pool(url, size=4)
    yield pool, url
    await pool.close()


async def test_a_generated_history_round_trips_with_the_same_rows_hashes_order_and_views(
    repository: Repository,
    pool: asyncpg.Pool,
    database_url: str,
    empty: tuple[asyncpg.Pool, str],
    tmp_path: Path,
) -> None:
    count = await generate(repository, pool, seed=5, at_least=1500)
    original_views = await caught_up(pool, database_url)
    data = await exported(pool, count)
    path = tmp_path / "export.ndjson"
    path.write_bytes(data)

    target, url = empty
    assert await import_log(target, path) == count

    assert await target.fetch(ROWS) == await pool.fetch(ROWS)
    assert await caught_up(target, url) == original_views
    # Exported again, only the (renumbered) transaction ids differ.
    again = await exported(target, count)
    assert _without_transaction_ids(again) == _without_transaction_ids(data)
    report = await verify(target)
    assert report.ok, report.lines()
    assert report.events == count


def _without_transaction_ids(data: bytes) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in json.loads(line).items() if k != "transaction_id"}
        for line in data.splitlines()
    ]


ORDER = "SELECT position, transaction_id FROM events ORDER BY transaction_id, position"


async def test_transactions_stay_together_and_in_their_order_when_positions_are_not(
    store: EventStore, pool: asyncpg.Pool, empty: tuple[asyncpg.Pool, str], tmp_path: Path
) -> None:
    # A transaction that took its id early but appended late: its events come first in the
    # global order although their positions are larger, and an import must keep it so.
    async with pool.acquire() as early, early.transaction():
        await early.fetchval("SELECT pg_current_xact_id()")
        await store.append(to_stream(n=3), to_stream(n=1), context=CTX)
        await store.append(to_stream(n=2), context=CTX, connection=early)
    rows = await pool.fetch(ORDER)
    assert [r[0] for r in rows] == [5, 6, 1, 2, 3, 4]
    path = tmp_path / "export.ndjson"
    path.write_bytes(await exported(pool, 6))

    target, _ = empty
    await import_log(target, path)
    imported = await target.fetch(ORDER)
    assert [r[0] for r in imported] == [5, 6, 1, 2, 3, 4]
    assert _groups(imported) == _groups(rows) == [[5, 6], [1, 2, 3, 4]]
    report = await verify(target)
    assert report.ok and report.events == 6, report.lines()


def _groups(rows: list[asyncpg.Record]) -> list[list[int]]:
    out: dict[int, list[int]] = {}
    for position, transaction_id in rows:
        out.setdefault(transaction_id, []).append(position)
    return list(out.values())


async def test_appends_after_an_import_continue_past_the_last_position(
    store: EventStore, pool: asyncpg.Pool, empty: tuple[asyncpg.Pool, str], tmp_path: Path
) -> None:
    await store.append(to_stream(n=5), context=CTX)
    path = tmp_path / "export.ndjson"
    path.write_bytes(await exported(pool, 5))
    target, _ = empty
    await import_log(target, path)
    appended = await EventStore(target).append(to_stream(n=1), context=CTX)
    assert appended.events[0].position == 6


async def test_a_retry_after_an_import_returns_the_first_result_and_writes_nothing(
    store: EventStore, pool: asyncpg.Pool, empty: tuple[asyncpg.Pool, str], tmp_path: Path
) -> None:
    """The key and request digest travel with the events, so a restored store still knows
    a retry from a new request."""
    first = to_stream(n=2)
    landed = await store.append(first, context=CTX, idempotency_key="case:7", fingerprint=b"r1")
    await store.append(to_stream(n=1), context=CTX)
    path = tmp_path / "export.ndjson"
    path.write_bytes(await exported(pool, 3))
    target, _ = empty
    await import_log(target, path)
    restored = EventStore(target)
    again = await restored.append(first, context=CTX, idempotency_key="case:7", fingerprint=b"r1")
    assert [(e.stream_id, e.version, e.position) for e in again.events] == [
        (e.stream_id, e.version, e.position) for e in landed.events
    ]
    assert await target.fetchval("SELECT count(*) FROM events") == 3
    with pytest.raises(IdempotencyKeyReused):
        await restored.append(
            to_stream(n=1), context=CTX, idempotency_key="case:7", fingerprint=b"other"
        )
    assert await target.fetchval("SELECT count(*) FROM events") == 3


async def test_import_refuses_a_store_that_is_not_empty(
    store: EventStore, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await store.append(to_stream(n=2), context=CTX)
    path = tmp_path / "export.ndjson"
    path.write_bytes(await exported(pool, 2))
    with pytest.raises(ImportRefused, match="not empty"):
        await import_log(pool, path)
    assert await pool.fetchval("SELECT count(*) FROM events") == 2


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda e: e["payload"].update(n=99), "version 2 .*hash does not match"),
        (lambda e: e.update(actor="leader:mallory"), "version 2 .*hash does not match"),
        (lambda e: e.update(version=3), "version 3 .*expected version 2"),
    ],
)
async def test_import_refuses_a_file_whose_chain_does_not_verify_and_writes_nothing(
    store: EventStore,
    pool: asyncpg.Pool,
    empty: tuple[asyncpg.Pool, str],
    tmp_path: Path,
    change: Callable[[dict[str, Any]], None],
    named: str,
) -> None:
    stream = to_stream(n=3)
    await store.append(stream, context=CTX)
    lines = [json.loads(x) for x in (await exported(pool, 3)).splitlines()]
    change(lines[1])
    if lines[1]["version"] == 3:
        del lines[2]  # a file with version 2 missing
    path = tmp_path / "export.ndjson"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    target, _ = empty
    with pytest.raises(ImportRefused, match=f"stream {stream.stream_id} {named}"):
        await import_log(target, path)
    assert await target.fetchval("SELECT count(*) FROM events") == 0


async def test_import_refuses_a_file_out_of_global_order(
    store: EventStore, pool: asyncpg.Pool, empty: tuple[asyncpg.Pool, str], tmp_path: Path
) -> None:
    await store.append(to_stream(n=1), context=CTX)
    await store.append(to_stream(n=1), context=CTX)
    lines = (await exported(pool, 2)).splitlines()
    path = tmp_path / "export.ndjson"
    path.write_bytes(lines[1] + b"\n" + lines[0] + b"\n")
    with pytest.raises(ImportRefused, match="out of global order"):
        await import_log(empty[0], path)


async def test_every_envelope_field_is_exported_and_filters_select_a_part(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    from tracker.eventstore import Context, NewEvent, StreamAppend

    context = Context(
        actor="integration:minutes",
        on_behalf_of="leader:1",
        source="minutes-tool",
        correlation_id=uuid.uuid4(),
        causation_id=uuid.uuid4(),
    )
    a = StreamAppend(
        stream_id=uuid.uuid4(),
        stream_type="commitment",
        expected_version=0,
        events=[NewEvent(type="made", payload={"é": "ü\n", "n": 1.5, "list": [1, None]})],
    )
    await store.append(a, context=context, idempotency_key="minutes:42", fingerprint=b"\x01\x02")
    await store.append(to_stream(n=2), context=CTX)
    data = await exported(pool, 3)
    first = json.loads(data.splitlines()[0])
    row = await pool.fetchrow("SELECT * FROM events WHERE stream_id = $1", a.stream_id)
    assert row is not None
    assert first == {
        "position": row["position"],
        "transaction_id": row["transaction_id"],
        "stream_id": str(a.stream_id),
        "stream_type": "commitment",
        "version": 1,
        "type": "made",
        "type_version": 1,
        "payload": {"é": "ü\n", "n": 1.5, "list": [1, None]},
        "occurred_at": msgspec.json.encode(row["occurred_at"]).decode().strip('"'),
        "recorded_at": msgspec.json.encode(row["recorded_at"]).decode().strip('"'),
        "actor": "integration:minutes",
        "on_behalf_of": "leader:1",
        "source": "minutes-tool",
        "correlation_id": str(context.correlation_id),
        "causation_id": str(context.causation_id),
        "hash": row["hash"].hex(),
        "idempotency_key": "minutes:42",
        "request_digest": "0102",
    }
    assert json.loads(data.splitlines()[1])["idempotency_key"] is None

    async def lines(only: ExportFilter) -> list[dict[str, Any]]:
        return [json.loads(x) for x in (await exported(pool, 0, only)).splitlines()]

    assert [x["version"] for x in await lines(ExportFilter(stream_id=a.stream_id))] == [1]
    assert len(await lines(ExportFilter(stream_type="thing"))) == 2
    assert len(await lines(ExportFilter(types=["made", "nothing"]))) == 1
    later = row["recorded_at"] + timedelta(microseconds=1)
    assert len(await lines(ExportFilter(since=later))) == 2
    assert len(await lines(ExportFilter(until=later))) == 1


async def test_an_export_pages_through_a_log_larger_than_a_page(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    for _ in range(5):
        await store.append(to_stream(n=7), to_stream(n=3), context=CTX)
    await exported(pool, 50)  # wait for the horizon
    chunks = [chunk async for chunk in export(pool, page=8)]
    assert len(chunks) == 7
    positions = [json.loads(x)["position"] for c in chunks for x in c.splitlines()]
    assert sorted(positions) == list(range(1, 51))


# --- GET /events/export --------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("data"),  # the app keeps its signing key there
        pool_size=2,
        run_projections=False,
        seal_seconds=0,
    )
    return create_app(settings)


async def test_auditors_and_admins_download_the_export_and_others_are_refused(
    app: Litestar, store: EventStore, pool: asyncpg.Pool
) -> None:
    await store.append(to_stream(n=3), context=CTX)
    expected = await exported(pool, 3)
    async with AsyncTestClient(app) as client:
        for kind in ("auditor", "admin"):
            token = await tokens.issue(pool, f"test-{kind}", kind, None)
            response = await client.get(
                "/events/export", headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith("application/x-ndjson")
            assert response.content == expected
        # Every auditor read is in the access log.
        logged = await pool.fetch("SELECT kind, path FROM access_log")
        assert [tuple(r) for r in logged] == [("auditor", "/events/export")]
        token = await tokens.issue(pool, "test-integration", "integration", None)
        response = await client.get(
            "/events/export?type=thing.happened&stream_type=thing",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 403
        assert response.json()["rule"] == RULE
        response = await client.get("/events/export")
        assert response.status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("type=thing.happened&type=a%00b", "type"),  # PostgreSQL text cannot hold NUL
        ("stream_type=a%00", "stream_type"),
        ("type=" + "x" * 101, "type"),
    ],
)
async def test_an_export_filter_postgresql_could_not_take_is_refused_naming_it(
    app: Litestar, pool: asyncpg.Pool, query: str, field: str
) -> None:
    token = await tokens.issue(pool, "test-auditor", "auditor", None)
    async with AsyncTestClient(app) as client:
        response = await client.get(
            f"/events/export?{query}", headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_an_imported_store_matches_the_heads_saved_from_the_original(
    store: EventStore, pool: asyncpg.Pool, empty: tuple[asyncpg.Pool, str], tmp_path: Path
) -> None:
    key = SigningKey.generate()
    for _ in range(20):
        await store.append(to_stream(n=3), to_stream(n=1), context=CTX)
    path = tmp_path / "export.ndjson"
    path.write_bytes(await exported(pool, 80))
    head = await seals.seal(pool, key)
    assert head is not None and head.tree_size == 80

    target, _ = empty
    await import_log(target, path)
    # Restored, the log hashes to the same heads; only the seals themselves are not there.
    report = await verify(target, [head])
    assert [f.kind for f in report.findings] == ["head"], report.lines()
    assert "holds no seal" in report.findings[0].message
    assert report.notes and key.key_id in report.notes[0]
    trusted = await verify(target, [head], key.public_raw)
    assert [f.kind for f in trusted.findings] == ["head"] and not trusted.notes
