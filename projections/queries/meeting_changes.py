"""What changed since a forum's previous meeting, grouped the way a chair reads it out."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from projections.queries.names import actor_name, line_names
from tracker.application.bounds import CHANGES as CHANGES_BOUND

# In the order a chair reads them out; each commitment is in one group only, the first that fits.
GROUPS = (
    "done",
    "changed_terms",
    "handed_over",
    "no_longer_pursued",
    "new",
    "still_open",
    "overdue",
)

# The commitments the meeting looks back on: made before it began, in the forum or citing one
# of the forum's purposes, not made at this meeting (those are its commitments_made); each with
# its state when the meeting began and what happened to it in the window: from the start of the
# previous meeting ($2; none for a first meeting: everything before) to this meeting's start.
# Times compare as stored: a commitment belongs to the window by when its events were recorded.
GROUPED = """
WITH m AS (
    SELECT m.meeting_id, m.forum_id, m.starts_at,
           (m.starts_at AT TIME ZONE coalesce(f.timezone, 'Europe/London'))::date AS day,
           (SELECT p.starts_at FROM meetings p WHERE p.meeting_id = $2::uuid) AS since
    FROM meetings m LEFT JOIN forums f ON f.forum_id = m.forum_id
    WHERE m.meeting_id = $1
), scope AS (
    SELECT c.commitment_id, c.created_at FROM commitments c, m
    WHERE c.forum_id = m.forum_id AND c.created_at < m.starts_at
      AND c.meeting_id IS DISTINCT FROM m.meeting_id
    UNION
    -- Joined purpose by purpose, so each is read by its own range of the key, live or past
    -- (as a filter, the past's rows were read whole: 0.3 s a view).
    SELECT pc.commitment_id, pc.created_at
    FROM m JOIN purposes p ON p.forum_id = m.forum_id
    JOIN purpose_commitments pc ON pc.purpose_id = p.purpose_id AND pc.created_at < m.starts_at
    WHERE pc.meeting_id IS DISTINCT FROM m.meeting_id
), grouped AS (
    SELECT s.commitment_id, s.created_at,
        CASE
            WHEN st.status IS NULL THEN NULL  -- no change recorded before the meeting
            -- Finished before the window and untouched in it: nothing to read out.
            WHEN st.n = 0 AND st.status NOT IN ('proposed', 'active') THEN NULL
            WHEN st.status IN ('completed', 'acknowledged') THEN 'done'
            WHEN st.status IN ('released', 'declined', 'withdrawn', 'cancelled')
                THEN 'no_longer_pursued'
            -- Lateness is what the chair raises first about open work, whatever else happened.
            WHEN st.due_on < m.day THEN 'overdue'
            WHEN st.handed THEN 'handed_over'
            WHEN st.reterm THEN 'changed_terms'
            WHEN st.made THEN 'new'
            ELSE 'still_open'
        END AS grp
    FROM scope s CROSS JOIN m
    -- One pass over each commitment's changes up to the meeting: its state then (the newest
    -- change's) and what happened in the window.
    CROSS JOIN LATERAL (
        SELECT (array_agg(ch.status ORDER BY ch.version DESC))[1] AS status,
               (array_agg(ch.due_on ORDER BY ch.version DESC))[1] AS due_on,
               count(*) FILTER (WHERE ch.in_window) AS n,
               coalesce(bool_or(ch.type = 'commitment.made') FILTER (WHERE ch.in_window), false)
                   AS made,
               coalesce(bool_or(ch.type = 'commitment.handover_accepted')
                   FILTER (WHERE ch.in_window), false) AS handed,
               coalesce(bool_or(ch.type IN ('commitment.renegotiated',
                   'commitment.renegotiation_agreed', 'commitment.counter_offer_accepted'))
                   FILTER (WHERE ch.in_window), false) AS reterm
        FROM (
            SELECT c.version, c.status, c.due_on, c.type,
                   (m.since IS NULL OR c.occurred_at >= m.since) AS in_window
            FROM commitment_changes c
            WHERE c.commitment_id = s.commitment_id AND c.occurred_at < m.starts_at
        ) ch
    ) st
)
"""
# Each group's count in full, and a page of each group asked for (all, or the one a cursor
# continues), oldest first, then by id: one statement, so the groups are judged once.
GROUP_PAGES = (
    GROUPED
    + """, counts AS (
    SELECT coalesce(jsonb_object_agg(grp, n), '{}') AS counts FROM (
        SELECT grp, count(*) AS n FROM grouped WHERE grp IS NOT NULL GROUP BY grp
    ) per_group
), listed AS (
    SELECT grouped.*,
           row_number() OVER (PARTITION BY grp ORDER BY created_at, commitment_id) AS rn
    FROM grouped
    WHERE grp = ANY($3::text[])
      AND ($4::timestamptz IS NULL OR (created_at, commitment_id) > ($4::timestamptz, $5::uuid))
)
SELECT counts.counts, g.grp, c.commitment_id, c.description, c.status, c.owner_id,
       c.owner_organisation_id, c.requester_id, c.due_on, c.progress, c.meeting_id,
       c.updated_at, c.created_at, """
    + line_names()
    + """
FROM counts
LEFT JOIN (listed g JOIN commitments c ON c.commitment_id = g.commitment_id)
    ON g.rn <= $6::integer + 1
ORDER BY g.grp, g.created_at, g.commitment_id
"""
)
# The latest CHANGES_BOUND changes each listed commitment had in the window, oldest first,
# each row with how many it had in all.
WINDOW_CHANGES = f"""
SELECT commitment_id, version, type, actor, {actor_name("actor")} AS actor_name, occurred_at,
       status, due_on, progress, total FROM (
    SELECT ch.*, row_number() OVER (PARTITION BY commitment_id ORDER BY position DESC) AS n,
           count(*) OVER (PARTITION BY commitment_id) AS total
    FROM commitment_changes ch
    WHERE ch.commitment_id = ANY($1::uuid[])
      AND ch.occurred_at < (SELECT starts_at FROM meetings WHERE meeting_id = $2)
      AND ($3::uuid IS NULL
           OR ch.occurred_at >= (SELECT starts_at FROM meetings WHERE meeting_id = $3))
) ch
WHERE n <= {CHANGES_BOUND}
ORDER BY position
"""


async def changes_since(
    conn: Any, meeting_id: UUID, previous: UUID | None, groups: list[str], after: Any, limit: int
) -> tuple[dict[str, int], dict[str, list[Any]]]:
    """Every group's count in full (zero for an empty one), and up to limit + 1 rows of each
    group named, after the cursor's key when one is given."""
    _, _, created_at, commitment_id = after
    rows = await conn.fetch(
        GROUP_PAGES, meeting_id, previous, groups, created_at, commitment_id, limit
    )
    counts = {g: 0 for g in GROUPS} | (dict(rows[0]["counts"]) if rows else {})
    pages: dict[str, list[Any]] = {g: [] for g in GROUPS}
    for r in rows:
        if r["grp"] is not None:
            pages[r["grp"]].append(r)
    return counts, pages


async def window_changes(
    conn: Any, ids: list[UUID], meeting_id: UUID, previous: UUID | None
) -> list[Any]:
    """The changes the listed commitments had between the two meetings."""
    if not ids:
        return []
    return list(await conn.fetch(WINDOW_CHANGES, ids, meeting_id, previous))
