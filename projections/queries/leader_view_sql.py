"""The leader view's statement: counts per group and forum, and a page of each group, in SQL."""

from __future__ import annotations

from projections.queries.names import names_json
from projections.queries.sql import DEFAULT_TIMEZONE, OPEN_SQL


def after(finished: str | None, due_on: str, created_at: str, commitment_id: str) -> str:
    """Rows of a group past a cursor's row, in the group's order; the arguments are placeholders
    (finished only for recently_finished, which lists the latest finished first)."""
    # No due date sorts last, as NULLS LAST would, and compares as a date.
    rest = (
        "(coalesce(m.due_on, 'infinity'::date), m.created_at, m.commitment_id) > "
        f"(coalesce({due_on}::date, 'infinity'::date), {created_at}::timestamptz, "
        f"{commitment_id}::uuid)"
    )
    if finished is None:
        return rest
    return (
        f"(m.finished_at < {finished}::timestamptz "
        f"OR (m.finished_at = {finished}::timestamptz AND {rest}))"
    )


ORDER = (
    "CASE WHEN m.grp = 'recently_finished' THEN m.finished_at END DESC, "
    "coalesce(m.due_on, 'infinity'::date), m.created_at, m.commitment_id"
)

# The listed rows' names; braces doubled, as the statement is formatted again with its filters.
NAMES = names_json().replace("{", "{{").replace("}", "}}")
# $1 the leader, $2 the start of the finished window, $3 due-soon days, $4 the moment the view
# is evaluated at, $5 the groups to list, $6 the page size; filters and the cursor follow.
#
# `m` holds each commitment of the leader's that is open, finished within the window, or a
# completion awaiting them as requester (one bitmap OR of the owner, requester and handover
# indexes), with its group judged by today's date in its forum's zone at $4, and only the keys
# it is grouped, counted and ordered by: narrow rows, whatever the leader's total. Part 0 counts
# them by group and forum; part 1 cuts each listed group's page with a bounded sort (top-N) and
# only then reads those few rows' stored items.
STATEMENT = f"""
WITH m AS MATERIALIZED (
    SELECT c.commitment_id, c.forum_id, z.zone, t.today, c.status, c.due_on, c.created_at,
           c.finished_at, a.awaiting,
           CASE WHEN a.awaiting IS NOT NULL THEN 'awaiting_response'
                WHEN c.status NOT IN ({OPEN_SQL}) THEN 'recently_finished'
                WHEN c.due_on IS NULL THEN 'no_due_date'
                WHEN c.due_on < t.today THEN 'overdue'
                WHEN c.due_on <= t.today + $3::integer THEN 'due_soon'
                ELSE 'active' END AS grp
    FROM commitments c
    LEFT JOIN forums f ON f.forum_id = c.forum_id
    CROSS JOIN LATERAL (SELECT coalesce(f.timezone, '{DEFAULT_TIMEZONE}') AS zone) z
    CROSS JOIN LATERAL (SELECT ($4::timestamptz AT TIME ZONE z.zone)::date AS today) t
    CROSS JOIN LATERAL (SELECT
        CASE WHEN c.handover_to = $1 THEN 'handover'
             WHEN c.status = 'proposed' AND c.owner_id = $1 AND c.offered_terms IS NULL
                 THEN 'proposal'
             WHEN c.requester_id = $1 AND c.status = 'proposed' AND c.offered_terms IS NOT NULL
                 THEN 'counter_offer'
             WHEN c.requester_id = $1 AND c.status = 'active' AND c.proposed_terms IS NOT NULL
                 THEN 'renegotiation'
             WHEN c.requester_id = $1 AND c.status = 'completed' THEN 'acknowledgement'
        END AS awaiting) a
    WHERE (c.owner_id = $1 OR c.requester_id = $1 OR c.handover_to = $1)
      AND (c.status IN ({OPEN_SQL}) OR c.finished_at >= $2
           OR (c.status = 'completed' AND c.requester_id = $1))
      {{filters}}
)
SELECT -1 AS part, NULL AS grp, NULL AS forum_id, NULL AS zone, NULL::date AS today,
       NULL::timestamptz AS midnight,
       (EXISTS (SELECT 1 FROM leader_organisations WHERE leader_id = $1)
        OR EXISTS (SELECT 1 FROM commitments WHERE owner_id = $1))::integer AS n,
       NULL::timestamptz AS finished_at, NULL AS item, NULL AS forum_name,
       NULL::boolean AS overdue, NULL AS role, NULL AS awaiting, NULL::date AS due_on,
       NULL::timestamptz AS created_at, NULL::uuid AS commitment_id, 0::bigint AS k,
       0::bigint AS o, NULL AS names
UNION ALL
SELECT 0, m.grp, m.forum_id::text, m.zone, m.today,
       ((m.today + 1)::timestamp AT TIME ZONE m.zone), count(*)::integer,
       min(m.finished_at) FILTER (WHERE m.finished_at >= $2), NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, 0, 0, NULL
FROM m GROUP BY m.grp, m.forum_id, m.zone, m.today
UNION ALL
SELECT 1, p.grp, NULL, NULL, NULL, NULL, NULL, p.finished_at, c.item, to_json(f.name)::text,
       coalesce(p.status IN ({OPEN_SQL}) AND p.due_on < p.today, false),
       CASE WHEN c.owner_id = $1 THEN 'owner' WHEN c.handover_to = $1 THEN 'handover'
            ELSE 'requester' END,
       p.awaiting, p.due_on, p.created_at, p.commitment_id, p.k, g.o,
       CASE WHEN p.k <= $6::integer THEN {NAMES} END
FROM unnest($5::text[]) WITH ORDINALITY g(name, o)
CROSS JOIN LATERAL (
    SELECT q.*, row_number() OVER (ORDER BY {ORDER.replace("m.", "q.")}) AS k
    FROM (SELECT * FROM m WHERE m.grp = g.name AND {{after}} ORDER BY {ORDER}
          LIMIT $6::integer + 1) q
) p
JOIN commitments c ON c.commitment_id = p.commitment_id
LEFT JOIN forums f ON f.forum_id = p.forum_id
ORDER BY part, o, k
"""
