"""The stored item of a commitment version, computed in SQL for the past views."""

from __future__ import annotations


def _text(column: str) -> str:
    """A uuid or text column as a JSON string, or null."""
    return f"coalesce(to_json(h.{column})::text, 'null')"


def _date(column: str) -> str:
    """A date as JSON, ISO whatever the session's DateStyle."""
    return f"""coalesce('"' || to_char(h.{column}, 'YYYY-MM-DD') || '"', 'null')"""


def _time(column: str) -> str:
    """A time as msgspec writes it: UTC, with microseconds only when there are some."""
    utc = f"h.{column} AT TIME ZONE 'UTC'"
    return (
        f"""coalesce('"' || to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS') || CASE WHEN """
        f"date_trunc('second', h.{column}) = h.{column} THEN '' ELSE to_char({utc}, '.US') END"
        f""" || 'Z"', 'null')"""
    )


def _terms(column: str) -> str:
    """[description, due_on] as StoredTerms."""
    return (
        f"""coalesce('{{"description":' || (h.{column} -> 0)::text || ',"due_on":' """
        f"|| (h.{column} -> 1)::text || '}}', 'null')"
    )


# Each field of commitment_fold.StoredItem, in its order, as an SQL expression.
FIELDS = (
    ("commitment_id", _text("commitment_id")),
    ("forum_id", _text("forum_id")),
    ("description", _text("description")),
    ("status", _text("status")),
    ("owner_id", _text("owner_id")),
    ("owner_organisation_id", _text("owner_organisation_id")),
    ("requester_id", _text("requester_id")),
    ("handover_to", _text("handover_to")),
    # jsonb writes ", " between elements where msgspec writes ","; purpose ids are UUIDs, so
    # the separator occurs nowhere else.
    ("purpose_ids", """replace(h.purpose_ids::text, '", "', '","')"""),
    ("made_on", _date("made_on")),
    ("due_on", _date("due_on")),
    ("original_due_on", _date("original_due_on")),
    ("asked_for", _terms("asked_for")),
    ("agreed", _terms("agreed")),
    ("renegotiation_count", "h.renegotiation_count::text"),
    ("progress", "coalesce(h.progress::text, 'null')"),
    ("counter_offer_pending", "(h.offered_terms IS NOT NULL)::text"),
    ("renegotiation_pending", "(h.proposed_terms IS NOT NULL)::text"),
    ("meeting_id", _text("meeting_id")),
    ("created_at", _time("created_at")),
    ("updated_at", _time("updated_at")),
    ("finished_at", _time("finished_at")),
    ("version", "h.version::text"),
)
_BODY = "\n    || ".join(
    f"""'{"{" if i == 0 else ","}"{name}":' || {sql}""" for i, (name, sql) in enumerate(FIELDS)
)

# commitments_history leaves out the item every live row stores (commitment_fold.render_item):
# past.commitments computes it with this function for just the rows a read lists (migration
# 0013). The text is render_item's, byte for byte: msgspec's compact JSON, fields in
# StoredItem's order. One expression calling only built-in functions, so the planner inlines
# it, and it needs no search path.
ITEM_DDL = f"""
CREATE FUNCTION commitments_item(h commitments_history) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT {_BODY} || '}}'
$$
"""
