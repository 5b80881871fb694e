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
