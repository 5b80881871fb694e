"""directory_v2: organisations, leaders with their current affiliations, forums and who belongs
to each, as the discovery lists and GET /me read them, each row's past versions kept beside it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections.base import Projection
from projections.bulk_directory import DirectoryBulk
from projections.directory_fold import DirectoryFold, Pair
from projections.directory_history import KEYS, record
from projections.history import History
from tracker.database import Connection
from tracker.eventstore import RecordedEvent

# Lists page by (lower(name), id); the prefix filters compare the same lower(name).
DDL = """
CREATE TABLE directory_organisations (
    organisation_id uuid PRIMARY KEY,
    name            text NOT NULL,
    kind            text NOT NULL,
    status          text NOT NULL,
    successor_id    uuid,
    registered_at   timestamptz NOT NULL
);
CREATE INDEX directory_organisations_name ON directory_organisations (lower(name), organisation_id);
CREATE TABLE directory_leaders (
    leader_id     uuid PRIMARY KEY,
    name          text NOT NULL,
    email         text,
    status        text NOT NULL,
    registered_at timestamptz NOT NULL,
    -- The roles not yet ended: [{organisation_id, title, from_on}], in the order recorded.
    affiliations  jsonb NOT NULL
);
CREATE INDEX directory_leaders_name ON directory_leaders (lower(name), leader_id);
CREATE INDEX directory_leaders_email ON directory_leaders (lower(email));
CREATE INDEX directory_leaders_affiliations
    ON directory_leaders USING gin (affiliations jsonb_path_ops);
CREATE TABLE directory_forums (
    forum_id    uuid PRIMARY KEY,
    name        text NOT NULL,
    timezone    text NOT NULL,
    convened_at timestamptz NOT NULL
);
CREATE INDEX directory_forums_name ON directory_forums (lower(name), forum_id);
CREATE TABLE directory_members (
    forum_id  uuid NOT NULL,
    leader_id uuid NOT NULL,
    -- member, then steward and the steward roles held (convenor, recorder).
    roles     jsonb NOT NULL,
    joined_at timestamptz NOT NULL,
    PRIMARY KEY (forum_id, leader_id)
);
CREATE INDEX directory_members_leader ON directory_members (leader_id, forum_id);
"""

# Rows travel as one JSON array per table: one statement per table per batch.
LOAD_ORGANISATIONS = """
SELECT to_jsonb(o) FROM directory_organisations o WHERE organisation_id = ANY($1::uuid[])
"""
LOAD_LEADERS = "SELECT to_jsonb(l) FROM directory_leaders l WHERE leader_id = ANY($1::uuid[])"
LOAD_FORUMS = "SELECT to_jsonb(f) FROM directory_forums f WHERE forum_id = ANY($1::uuid[])"
LOAD_MEMBERS = """
SELECT to_jsonb(m) FROM directory_members m
JOIN unnest($1::uuid[], $2::uuid[]) AS k(forum_id, leader_id) USING (forum_id, leader_id)
"""
SAVE_ORGANISATIONS = """
INSERT INTO directory_organisations
SELECT * FROM jsonb_populate_recordset(NULL::directory_organisations, $1::jsonb)
ON CONFLICT (organisation_id) DO UPDATE SET
    name = EXCLUDED.name, status = EXCLUDED.status, successor_id = EXCLUDED.successor_id
"""
SAVE_LEADERS = """
INSERT INTO directory_leaders
SELECT * FROM jsonb_populate_recordset(NULL::directory_leaders, $1::jsonb)
ON CONFLICT (leader_id) DO UPDATE SET
    name = EXCLUDED.name, email = EXCLUDED.email, status = EXCLUDED.status,
    affiliations = EXCLUDED.affiliations
"""
SAVE_FORUMS = """
INSERT INTO directory_forums
SELECT * FROM jsonb_populate_recordset(NULL::directory_forums, $1::jsonb)
ON CONFLICT (forum_id) DO UPDATE SET name = EXCLUDED.name
"""
# Departures are deleted first: a leader may leave and join again within one batch.
DELETE_MEMBERS = """
DELETE FROM directory_members m
USING jsonb_to_recordset($1::jsonb) AS d(forum_id uuid, leader_id uuid)
WHERE m.forum_id = d.forum_id AND m.leader_id = d.leader_id
"""
SAVE_MEMBERS = """
INSERT INTO directory_members
SELECT * FROM jsonb_populate_recordset(NULL::directory_members, $1::jsonb)
ON CONFLICT (forum_id, leader_id) DO UPDATE SET
    roles = EXCLUDED.roles, joined_at = EXCLUDED.joined_at
"""
STREAMS = ("organisation", "leader", "forum")


def _keys(events: Sequence[RecordedEvent]) -> tuple[dict[str, set[str]], set[Pair]]:
    """The ids of the rows a batch may change, by stream type, and the memberships."""
    keys: dict[str, set[str]] = {s: set() for s in STREAMS}
    pairs: set[Pair] = set()
    for e in events:
        if e.stream_type in keys:
            keys[e.stream_type].add(str(e.stream_id))
        if e.stream_type == "forum" and "leader_id" in e.payload:
            pairs.add((str(e.stream_id), e.payload["leader_id"]))
    return keys, pairs


class DirectoryView(Projection):
    """Who and what there is: the names callers find their way by, and who belongs where."""

    # v2 keeps every past version of its rows, for the lists as of a past cut.
    name = "directory_v2"
    ddl = DDL
    tables = (
        "directory_organisations",
        "directory_leaders",
        "directory_forums",
        "directory_members",
    )
    history = tuple(KEYS)

    def bulk(self) -> DirectoryBulk:
        """The same fold over the whole log in memory, each table written with COPY."""
        return DirectoryBulk()

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        """Load the rows the batch touches, fold the batch, write the changed rows back."""
        keys, pairs = _keys(events)
        fold = DirectoryFold()
        await _load(
            conn, LOAD_ORGANISATIONS, keys["organisation"], fold.organisations, "organisation_id"
        )
        await _load(conn, LOAD_LEADERS, keys["leader"], fold.leaders, "leader_id")
        await _load(conn, LOAD_FORUMS, keys["forum"], fold.forums, "forum_id")
        if pairs:
            forums, leaders = zip(*pairs, strict=True)
            for (row,) in await conn.fetch(LOAD_MEMBERS, list(forums), list(leaders)):
                fold.members[(row["forum_id"], row["leader_id"])] = row
        history = History(KEYS)
        for e in events:
            record(fold, e, history)
        await _save(conn, SAVE_ORGANISATIONS, fold.touched("organisation"))
        await _save(conn, SAVE_LEADERS, fold.touched("leader"))
        await _save(conn, SAVE_FORUMS, fold.touched("forum"))
        departed = [{"forum_id": f, "leader_id": m} for f, m in fold.left]
        await _save(conn, DELETE_MEMBERS, departed)
        await _save(conn, SAVE_MEMBERS, fold.touched("member"))
        await history.write(conn)


async def _load(conn: Connection, sql: str, keys: set[str], into: dict[str, Any], key: str) -> None:
    if keys:
        for (row,) in await conn.fetch(sql, list(keys)):
            into[row[key]] = row


async def _save(conn: Connection, sql: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(sql, rows)  # the pool's jsonb codec encodes the list
