"""Which forums one leader stewards and another belongs to, as the views know them."""

from __future__ import annotations

from uuid import UUID

import asyncpg

# members is the indexed column; stewards holds [leader, role] pairs, matched by leader alone.
STEWARDED_WITH = """
SELECT forum_id FROM forums
WHERE members @> jsonb_build_array($2::text)
  AND stewards @> jsonb_build_array(jsonb_build_array($1::text))
"""


async def stewarded_with(pool: asyncpg.Pool, steward_id: UUID, leader_id: UUID) -> list[UUID]:
    """The forums steward_id stewards and leader_id is a member of."""
    rows = await pool.fetch(STEWARDED_WITH, str(steward_id), str(leader_id))
    return [row["forum_id"] for row in rows]
