"""commitment_views_v6: one row per commitment, its changes, and the forum and leader facts
the leader view, the commitment list and the purpose view need."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from projections.base import Projection
from projections.bulk_commitment import CommitmentBulk
from projections.commitment_fold import CHANGE_COLUMNS, CommitmentFold, render_item
from projections.commitment_history import KEYS, record
from projections.commitment_item_sql import ITEM_DDL
from projections.history import History
from projections.purpose_links import RELINK, RELINK_HISTORY, UNLINK_DROPPED, UNLINK_HISTORY
from tracker.database import Connection
from tracker.eventstore import RecordedEvent

DDL = """
CREATE TABLE forums (
    forum_id uuid PRIMARY KEY,
    name     text  NOT NULL,
    timezone text  NOT NULL,
    members  jsonb NOT NULL,
    stewards jsonb NOT NULL
);
CREATE INDEX forums_members ON forums USING gin (members jsonb_path_ops);
CREATE TABLE leader_organisations (
    leader_id       uuid PRIMARY KEY,
    name            text NOT NULL,  -- as registered or last corrected
    organisation_id uuid,
    title           text,           -- the role held with organisation_id
    -- [organisation_id, title, from_on, to_on] per role, oldest first: a leader may hold
    -- several, even with one organisation. The organisation shown is the newest current role's;
    -- a commitment counts under the owner's organisation on the day it was made.
    affiliations    jsonb NOT NULL
);
-- Organisations' current names, shown beside their ids.
CREATE TABLE organisations (
    organisation_id uuid PRIMARY KEY,
    name            text NOT NULL
);
CREATE TABLE commitments (
    commitment_id         uuid PRIMARY KEY,
    forum_id              uuid  NOT NULL,
    owner_id              uuid  NOT NULL,
    requester_id          uuid,
    made_by               uuid,
    owner_organisation_id uuid,
    description           text  NOT NULL,
    purpose_ids           jsonb NOT NULL,
    status                text  NOT NULL,
    made_on               date  NOT NULL,
    due_on                date,
    original_due_on       date,
    asked_for             jsonb NOT NULL,  -- [description, due_on] as first asked for
    agreed                jsonb,           -- as agreed on acceptance; null until then
    renegotiation_count   integer NOT NULL,
    progress              integer,
    handover_to           uuid,
    offered_terms         jsonb,
    proposed_terms        jsonb,
    meeting_id            uuid,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    finished_at           timestamptz,
    version               integer NOT NULL,
    -- The row as the views list it (commitment_fold.StoredItem), so reads splice JSON rather
    -- than render it: under half the database's work for a leader's view (measured).
    item                  text    NOT NULL
);
CREATE INDEX commitments_owner ON commitments (owner_id);
CREATE INDEX commitments_requester ON commitments (requester_id) WHERE requester_id IS NOT NULL;
CREATE INDEX commitments_handover ON commitments (handover_to) WHERE handover_to IS NOT NULL;
CREATE INDEX commitments_meeting ON commitments (meeting_id) WHERE meeting_id IS NOT NULL;
CREATE INDEX commitments_purposes ON commitments USING gin (purpose_ids jsonb_path_ops);
CREATE INDEX commitments_listing ON commitments (created_at, commitment_id);
CREATE INDEX commitments_forum ON commitments (forum_id, created_at);
-- One row per purpose a commitment cites, with what the purpose view lists and counts: a
-- purpose's rows lie together in index order (and, after a bulk build, on disk), where the
-- commitments' own rows are scattered and wide.
CREATE TABLE purpose_commitments (
    purpose_id            uuid NOT NULL,
    created_at            timestamptz NOT NULL,
    commitment_id         uuid NOT NULL,
    description           text NOT NULL,
    status                text NOT NULL,
    owner_id              uuid NOT NULL,
    owner_organisation_id uuid,
    requester_id          uuid,
    due_on                date,
    progress              integer,
    meeting_id            uuid,
    updated_at            timestamptz NOT NULL,
    PRIMARY KEY (purpose_id, created_at, commitment_id)
);
CREATE INDEX purpose_commitments_commitment ON purpose_commitments (commitment_id);
CREATE TABLE commitment_changes (
    commitment_id uuid    NOT NULL,
    version       integer NOT NULL,
    position      bigint  NOT NULL,
    type          text    NOT NULL,
    actor         text    NOT NULL,
    occurred_at   timestamptz NOT NULL,
    status        text    NOT NULL,
    due_on        date,
    progress      integer,
    -- Where in the log it was made: a past view lists the changes made by then.
    opened_tx     bigint  NOT NULL,
    opened_pos    bigint  NOT NULL,
    PRIMARY KEY (commitment_id, version)
);
"""

# Rows travel as one JSON array per table: one statement per table per batch.
LOAD_FORUMS = "SELECT to_jsonb(f) FROM forums f WHERE forum_id = ANY($1::uuid[])"
LOAD_LEADERS = "SELECT to_jsonb(l) FROM leader_organisations l WHERE leader_id = ANY($1::uuid[])"
LOAD_ORGANISATIONS = (
    "SELECT to_jsonb(o) FROM organisations o WHERE organisation_id = ANY($1::uuid[])"
)
LOAD_COMMITMENTS = "SELECT to_jsonb(c) FROM commitments c WHERE commitment_id = ANY($1::uuid[])"
SAVE_FORUMS = """
INSERT INTO forums SELECT * FROM jsonb_populate_recordset(NULL::forums, $1::jsonb)
ON CONFLICT (forum_id) DO UPDATE SET
    name = EXCLUDED.name, timezone = EXCLUDED.timezone,
    members = EXCLUDED.members, stewards = EXCLUDED.stewards
"""
SAVE_LEADERS = """
INSERT INTO leader_organisations
SELECT * FROM jsonb_populate_recordset(NULL::leader_organisations, $1::jsonb)
ON CONFLICT (leader_id) DO UPDATE SET
    name = EXCLUDED.name, organisation_id = EXCLUDED.organisation_id, title = EXCLUDED.title,
    affiliations = EXCLUDED.affiliations
"""
SAVE_ORGANISATIONS = """
INSERT INTO organisations SELECT * FROM jsonb_populate_recordset(NULL::organisations, $1::jsonb)
ON CONFLICT (organisation_id) DO UPDATE SET name = EXCLUDED.name
"""
SAVE_COMMITMENTS = """
INSERT INTO commitments SELECT * FROM jsonb_populate_recordset(NULL::commitments, $1::jsonb)
ON CONFLICT (commitment_id) DO UPDATE SET
    owner_id = EXCLUDED.owner_id, owner_organisation_id = EXCLUDED.owner_organisation_id,
    description = EXCLUDED.description, purpose_ids = EXCLUDED.purpose_ids,
    status = EXCLUDED.status, due_on = EXCLUDED.due_on, original_due_on = EXCLUDED.original_due_on,
    asked_for = EXCLUDED.asked_for, agreed = EXCLUDED.agreed,
    renegotiation_count = EXCLUDED.renegotiation_count, progress = EXCLUDED.progress,
    handover_to = EXCLUDED.handover_to, offered_terms = EXCLUDED.offered_terms,
    proposed_terms = EXCLUDED.proposed_terms, updated_at = EXCLUDED.updated_at,
    finished_at = EXCLUDED.finished_at, version = EXCLUDED.version, item = EXCLUDED.item
"""


class CommitmentViews(Projection):
    """Commitments as leaders, forums and purposes look at them."""

    name = "commitment_views_v6"
    ddl = DDL
    tables = (
        "forums",
        "leader_organisations",
        "organisations",
        "commitments",
        "purpose_commitments",
        "commitment_changes",
    )
    history = (*KEYS, "purpose_commitments")
    history_omits = {"commitments": ("item",)}  # noqa: RUF012 (as Projection declares it)
    history_ddl = ITEM_DDL

    def bulk(self) -> CommitmentBulk:
        """The same fold over the whole log in memory, each table written with COPY."""
        return CommitmentBulk()

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        """Load the rows the batch touches, fold the batch, write the changed rows back."""
        fold = CommitmentFold()
        forums, leaders, organisations, commitments = set(), set(), set(), set()
        for e in events:
            if e.stream_type == "forum":
                forums.add(e.stream_id)
            elif e.stream_type == "organisation":
                organisations.add(e.stream_id)
            elif e.stream_type == "leader":
                leaders.add(e.stream_id)
            elif e.stream_type == "commitment":
                commitments.add(e.stream_id)
                for who in ("owner_id", "by"):
                    if isinstance(e.payload.get(who), str):
                        leaders.add(e.payload[who])
        await _load(conn, LOAD_FORUMS, forums, fold.forums, "forum_id")
        await _load(conn, LOAD_LEADERS, leaders, fold.leaders, "leader_id")
        await _load(conn, LOAD_ORGANISATIONS, organisations, fold.organisations, "organisation_id")
        await _load(conn, LOAD_COMMITMENTS, commitments, fold.commitments, "commitment_id")
        history = History(KEYS)
        for e in events:
            record(fold, e, history)
        await _save(conn, SAVE_FORUMS, fold.touched("forum"))
        await _save(conn, SAVE_LEADERS, fold.touched("leader"))
        await _save(conn, SAVE_ORGANISATIONS, fold.touched("organisation"))
        touched = fold.touched("commitment")
        for row in touched:
            row["item"] = render_item(row)
        await _save(conn, SAVE_COMMITMENTS, touched)
        ids = [row["commitment_id"] for row in touched]
        if ids:
            await conn.execute(UNLINK_DROPPED, ids)
            await conn.execute(RELINK, ids)
        await history.write(conn)
        if ids:
            await conn.execute(UNLINK_HISTORY, ids)
            await conn.execute(RELINK_HISTORY, ids, events[0].transaction_id, events[0].position)
        # Changes are append-only, one per event: COPY is the cheapest way in.
        await conn.copy_records_to_table(
            "commitment_changes", records=[_change(c) for c in fold.changes], columns=CHANGE_COLUMNS
        )


async def _load(conn: Connection, sql: str, keys: set[Any], into: dict[str, Any], key: str) -> None:
    if keys:
        for (row,) in await conn.fetch(sql, [str(k) for k in keys]):
            into[row[key]] = row


async def _save(conn: Connection, sql: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(sql, rows)  # the pool's jsonb codec encodes the list


def _change(row: dict[str, Any]) -> tuple[Any, ...]:
    """A change row as COPY's binary format wants it: real UUIDs and dates."""
    due = row["due_on"]
    return (
        row["commitment_id"],
        row["version"],
        row["position"],
        row["type"],
        row["actor"],
        row["occurred_at"],
        row["status"],
        None if due is None else date.fromisoformat(due),
        row["progress"],
        row["opened_tx"],
        row["opened_pos"],
    )
