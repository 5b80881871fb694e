"""purpose_commitments: the rows of commitments, made from their rows in commitments."""

from __future__ import annotations

# The purpose rows of some commitments (or all), from their commitments rows: the live path and
# a bulk build both fill purpose_commitments with this, so the two agree by construction.
LINK = """
INSERT INTO purpose_commitments
SELECT p.purpose_id::uuid, c.created_at, c.commitment_id, c.description, c.status, c.owner_id,
       c.owner_organisation_id, c.requester_id, c.due_on, c.progress, c.meeting_id, c.updated_at
FROM commitments c
CROSS JOIN LATERAL (
    SELECT DISTINCT value FROM jsonb_array_elements_text(c.purpose_ids)
) p(purpose_id)
WHERE {which}
ORDER BY 1, 2, 3
"""
LINK_ALL = LINK.format(which="true")

# The live path changes rows in place rather than deleting and inserting them all: most events
# (progress, a new due date) keep a commitment's purposes, and an update that leaves every
# indexed column as it was is a heap-only tuple, which writes no index entries.
UNLINK_DROPPED = """
DELETE FROM purpose_commitments pc USING commitments c
WHERE pc.commitment_id = ANY($1::uuid[]) AND c.commitment_id = pc.commitment_id
  AND NOT c.purpose_ids ? pc.purpose_id::text
"""
RELINK = (
    LINK.format(which="c.commitment_id = ANY($1::uuid[])")
    + """ON CONFLICT (purpose_id, created_at, commitment_id) DO UPDATE SET
    description = EXCLUDED.description, status = EXCLUDED.status, owner_id = EXCLUDED.owner_id,
    owner_organisation_id = EXCLUDED.owner_organisation_id,
    requester_id = EXCLUDED.requester_id, due_on = EXCLUDED.due_on,
    progress = EXCLUDED.progress, meeting_id = EXCLUDED.meeting_id,
    updated_at = EXCLUDED.updated_at
"""
)

# The same rows for each version of a commitment, holding over the same range of the log.
LINK_HISTORY = """
INSERT INTO purpose_commitments_history
SELECT p.purpose_id::uuid, c.created_at, c.commitment_id, c.description, c.status, c.owner_id,
       c.owner_organisation_id, c.requester_id, c.due_on, c.progress, c.meeting_id, c.updated_at,
       c.opened_tx, c.opened_pos, c.closed_tx, c.closed_pos
FROM commitments_history c
CROSS JOIN LATERAL (
    SELECT DISTINCT value FROM jsonb_array_elements_text(c.purpose_ids)
) p(purpose_id)
WHERE {which}
ORDER BY 1, 2, 3, 13, 14
"""
LINK_HISTORY_ALL = LINK_HISTORY.format(which="true")
# After a batch closed some commitments' versions: their purpose rows close with them.
UNLINK_HISTORY = """
UPDATE purpose_commitments_history p SET closed_tx = c.closed_tx, closed_pos = c.closed_pos
FROM commitments_history c
WHERE c.commitment_id = ANY($1::uuid[]) AND c.closed_tx IS NOT NULL
  AND p.commitment_id = c.commitment_id AND p.closed_tx IS NULL
  AND p.opened_tx = c.opened_tx AND p.opened_pos = c.opened_pos
"""
# The versions the batch made, from its first event on.
RELINK_HISTORY = LINK_HISTORY.format(
    which="c.commitment_id = ANY($1::uuid[]) AND (c.opened_tx, c.opened_pos) >= ($2, $3)"
)
