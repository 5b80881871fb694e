"""A past view computes each commitment version's stored item in SQL: render_item's text."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg

from projections.commitment_fold import render_item
from projections.commitment_view import CommitmentViews
from projections.runner import SEARCH_PATH, create_tables
from tests.unit.test_stored_item import row

GENERATION = 99  # a scratch generation, rolled back
INSERT = """
INSERT INTO commitments_history
SELECT * FROM jsonb_populate_recordset(NULL::commitments_history, $1::jsonb)
"""
ITEMS = "SELECT commitments_item(h) FROM commitments_history h ORDER BY h.version"


def rows() -> list[dict[str, Any]]:
    """Rows with what JSON escapes, times with and without microseconds and offsets, and the
    nulls each field may hold."""
    made = datetime(2026, 11, 3, 9, 30, 15, 123456, tzinfo=UTC)
    whole = datetime(2026, 11, 20, 17, 0, tzinfo=timezone(timedelta(hours=-5)))
    tenth = datetime(2026, 12, 1, 8, 0, 0, 100000, tzinfo=UTC)
    odd = 'Quote " backslash \\ tab \t newline \n bell \x07 é \u2028 / end'
    return [
        row(created_at=made, updated_at=whole, finished_at=tenth, version=1),
        row(created_at=whole, updated_at=tenth, finished_at=None, version=2)
        | {"description": odd, "asked_for": [odd, None], "agreed": None, "progress": None},
        row(created_at=tenth, updated_at=made, finished_at=whole, version=3)
        | {
            "requester_id": str(uuid.uuid4()),
            "handover_to": str(uuid.uuid4()),
            "owner_organisation_id": str(uuid.uuid4()),
            "meeting_id": str(uuid.uuid4()),
            "made_by": str(uuid.uuid4()),
            "purpose_ids": [str(uuid.uuid4()) for _ in range(3)],
            "due_on": None,
            "original_due_on": None,
            "offered_terms": ["Counter", "2027-01-02"],
            "proposed_terms": None,
        },
        row(created_at=made, updated_at=made, finished_at=None, version=4) | {"purpose_ids": []},
    ]


async def test_the_sql_item_is_render_items_text_byte_for_byte(pool: asyncpg.Pool) -> None:
    projection, made = CommitmentViews(), rows()
    versions = [
        r | {"opened_tx": 1, "opened_pos": r["version"], "closed_tx": None, "closed_pos": None}
        for r in made
    ]
    async with pool.acquire() as conn:
        scratch = conn.transaction()
        await scratch.start()
        try:
            # Not ISO: the function must not depend on the session's DateStyle.
            await conn.execute("SET LOCAL DateStyle = 'SQL, DMY'")
            await create_tables(conn, projection, GENERATION)
            await conn.execute(SEARCH_PATH, projection.schema(GENERATION))
            await conn.execute(INSERT, [{k: _json(v) for k, v in r.items()} for r in versions])
            computed = [r[0] for r in await conn.fetch(ITEMS)]
        finally:
            await scratch.rollback()  # nothing of the scratch generation is kept
    assert computed == [render_item(r) for r in made]


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
