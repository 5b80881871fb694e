"""purpose_commitments: the rows of commitments, made from their rows in commitments."""

from __future__ import annotations

# The purpose rows of some commitments (or all), from their commitments rows: the live path and
# a bulk build both fill purpose_commitments with this, so the two agree by construction.
UNLINK = "DELETE FROM purpose_commitments WHERE commitment_id = ANY($1::uuid[])"
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
LINK_SOME = LINK.format(which="c.commitment_id = ANY($1::uuid[])")
LINK_ALL = LINK.format(which="true")
