"""governance_views_v4: purposes and their endorsements, agreements, meetings with their
attendance and decisions, as the purpose view, meeting view and agreements register read them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections.base import Projection
from projections.bulk_governance import GovernanceBulk
from projections.governance_fold import GovernanceFold
from projections.governance_history import KEYS, record
from projections.history import History
from tracker.database import Connection
from tracker.eventstore import RecordedEvent

DDL = """
CREATE TABLE purposes (
    purpose_id         uuid PRIMARY KEY,
    forum_id           uuid  NOT NULL,
    statement          text  NOT NULL,
    original_statement text  NOT NULL,
    status             text  NOT NULL,
    decision_rule      text,
    adopted_meeting_id uuid,
    proposed_by        uuid  NOT NULL,
    proposed_at        timestamptz NOT NULL,
    revisions          jsonb NOT NULL,
    last_activity      timestamptz NOT NULL,
    version            integer NOT NULL
);
-- The purpose, meeting and agreement lists page in these orders, within a forum or across all.
CREATE INDEX purposes_forum ON purposes (forum_id, proposed_at, purpose_id);
CREATE INDEX purposes_proposed ON purposes (proposed_at, purpose_id);
CREATE TABLE purpose_endorsements (
    purpose_id  uuid NOT NULL,
    leader_id   uuid NOT NULL,
    affiliation jsonb,
    endorsed_at timestamptz NOT NULL,
    PRIMARY KEY (purpose_id, leader_id)
);
CREATE TABLE agreements (
    agreement_id       uuid PRIMARY KEY,
    forum_id           uuid,
    scope              text  NOT NULL,
    scope_id           uuid  NOT NULL,
    kind               text  NOT NULL,
    title              text  NOT NULL,
    text               text  NOT NULL,
    status             text  NOT NULL,
    decision_rule      text,
    adopted_meeting_id uuid,
    adopted_at         timestamptz,
    amendments         jsonb NOT NULL,
    proposed_by        uuid  NOT NULL,
    proposed_at        timestamptz NOT NULL,
    rescinded_at       timestamptz,
    rescinded_reason   text
);
CREATE INDEX agreements_forum ON agreements (forum_id, status);
CREATE INDEX agreements_scope ON agreements (scope_id, status);
CREATE INDEX agreements_forum_proposed ON agreements (forum_id, proposed_at, agreement_id);
CREATE INDEX agreements_proposed ON agreements (proposed_at, agreement_id);
CREATE TABLE meetings (
    meeting_id     uuid PRIMARY KEY,
    forum_id       uuid NOT NULL,
    title          text NOT NULL,
    starts_at      timestamptz NOT NULL,
    location       text NOT NULL,
    status         text NOT NULL,
    record_version integer NOT NULL
);
CREATE INDEX meetings_forum ON meetings (forum_id, starts_at, meeting_id);
CREATE INDEX meetings_starts ON meetings (starts_at, meeting_id);
CREATE TABLE meeting_attendance (
    meeting_id  uuid NOT NULL,
    leader_id   uuid NOT NULL,
    presence    text NOT NULL,
    affiliation jsonb,
    PRIMARY KEY (meeting_id, leader_id)
);
CREATE TABLE meeting_decisions (
    meeting_id  uuid NOT NULL,
    decision_id uuid NOT NULL,
    text        text NOT NULL,
    recorded_at timestamptz NOT NULL,
    position    bigint NOT NULL,
    -- The rule in force it was made under (its title then, and id); null: under none.
    decision_rule    text,
    decision_rule_id uuid,
    -- Where in the log it was recorded: a past view lists the decisions recorded by then.
    opened_tx   bigint NOT NULL,
    opened_pos  bigint NOT NULL,
    PRIMARY KEY (meeting_id, decision_id)
);
"""

# Rows travel as one JSON array per table: one statement per table per batch.
LOAD_PURPOSES = "SELECT to_jsonb(p) FROM purposes p WHERE purpose_id = ANY($1::uuid[])"
LOAD_AGREEMENTS = "SELECT to_jsonb(a) FROM agreements a WHERE agreement_id = ANY($1::uuid[])"
LOAD_MEETINGS = "SELECT to_jsonb(m) FROM meetings m WHERE meeting_id = ANY($1::uuid[])"
SAVE_PURPOSES = """
INSERT INTO purposes SELECT * FROM jsonb_populate_recordset(NULL::purposes, $1::jsonb)
ON CONFLICT (purpose_id) DO UPDATE SET
    statement = EXCLUDED.statement, status = EXCLUDED.status,
    decision_rule = EXCLUDED.decision_rule, adopted_meeting_id = EXCLUDED.adopted_meeting_id,
    revisions = EXCLUDED.revisions, last_activity = EXCLUDED.last_activity,
    version = EXCLUDED.version
"""
# Withdrawn endorsements are deleted; a leader may endorse again later, even in the same batch.
DELETE_ENDORSEMENTS = """
DELETE FROM purpose_endorsements e
USING jsonb_to_recordset($1::jsonb) AS w(purpose_id uuid, leader_id uuid)
WHERE e.purpose_id = w.purpose_id AND e.leader_id = w.leader_id
"""
SAVE_ENDORSEMENTS = """
INSERT INTO purpose_endorsements
SELECT * FROM jsonb_populate_recordset(NULL::purpose_endorsements, $1::jsonb)
ON CONFLICT (purpose_id, leader_id) DO UPDATE SET
    affiliation = EXCLUDED.affiliation, endorsed_at = EXCLUDED.endorsed_at
"""
SAVE_AGREEMENTS = """
INSERT INTO agreements SELECT * FROM jsonb_populate_recordset(NULL::agreements, $1::jsonb)
ON CONFLICT (agreement_id) DO UPDATE SET
    text = EXCLUDED.text, status = EXCLUDED.status, decision_rule = EXCLUDED.decision_rule,
    adopted_meeting_id = EXCLUDED.adopted_meeting_id, adopted_at = EXCLUDED.adopted_at,
    amendments = EXCLUDED.amendments, rescinded_at = EXCLUDED.rescinded_at,
    rescinded_reason = EXCLUDED.rescinded_reason
"""
SAVE_MEETINGS = """
INSERT INTO meetings SELECT * FROM jsonb_populate_recordset(NULL::meetings, $1::jsonb)
ON CONFLICT (meeting_id) DO UPDATE SET
    status = EXCLUDED.status, record_version = EXCLUDED.record_version
"""
# Attendance recorded again for a leader replaces what was recorded before, as in the aggregate.
SAVE_ATTENDANCE = """
INSERT INTO meeting_attendance
SELECT * FROM jsonb_populate_recordset(NULL::meeting_attendance, $1::jsonb)
ON CONFLICT (meeting_id, leader_id) DO UPDATE SET
    presence = EXCLUDED.presence, affiliation = EXCLUDED.affiliation
"""
SAVE_DECISIONS = """
INSERT INTO meeting_decisions
SELECT * FROM jsonb_populate_recordset(NULL::meeting_decisions, $1::jsonb)
"""


def _keys(events: Sequence[RecordedEvent]) -> dict[str, set[str]]:
    """The ids of the rows a batch may change, by table."""
    keys: dict[str, set[str]] = {"purpose": set(), "agreement": set(), "meeting": set()}
    for e in events:
        if e.stream_type in keys:
            keys[e.stream_type].add(str(e.stream_id))
        # A purpose-scoped agreement belongs to the purpose's forum.
        if e.type == "agreement.proposed" and e.payload["scope"] == "purpose":
            keys["purpose"].add(e.payload["scope_id"])
    return keys


class GovernanceViews(Projection):
    """Purposes, agreements and meetings as partnerships look at them."""

    name = "governance_views_v4"
    ddl = DDL
    tables = (
        "purposes",
        "purpose_endorsements",
        "agreements",
        "meetings",
        "meeting_attendance",
        "meeting_decisions",
    )
    history = tuple(KEYS)

    def bulk(self) -> GovernanceBulk:
        """The same fold over the whole log in memory, each table written with COPY."""
        return GovernanceBulk()

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        """Load the rows the batch touches, fold the batch, write the changed rows back."""
        fold = GovernanceFold()
        keys = _keys(events)
        await _load(conn, LOAD_PURPOSES, keys["purpose"], fold.purposes, "purpose_id")
        await _load(conn, LOAD_AGREEMENTS, keys["agreement"], fold.agreements, "agreement_id")
        await _load(conn, LOAD_MEETINGS, keys["meeting"], fold.meetings, "meeting_id")
        history = History(KEYS)
        for e in events:
            record(fold, e, history)
        await _save(conn, SAVE_PURPOSES, fold.touched("purpose"))
        withdrawn = [{"purpose_id": p, "leader_id": by} for p, by in fold.withdrawn]
        await _save(conn, DELETE_ENDORSEMENTS, withdrawn)
        await _save(conn, SAVE_ENDORSEMENTS, list(fold.endorsements.values()))
        await _save(conn, SAVE_AGREEMENTS, fold.touched("agreement"))
        await _save(conn, SAVE_MEETINGS, fold.touched("meeting"))
        await _save(conn, SAVE_ATTENDANCE, list(fold.attendance.values()))
        await _save(conn, SAVE_DECISIONS, fold.decisions)
        await history.write(conn)


async def _load(conn: Connection, sql: str, keys: set[str], into: dict[str, Any], key: str) -> None:
    if keys:
        for (row,) in await conn.fetch(sql, list(keys)):
            into[row[key]] = row


async def _save(conn: Connection, sql: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(sql, rows)  # the pool's jsonb codec encodes the list
