"""What a fault may not do to acknowledged commands: lose one, apply one twice, answer a retry
differently, or leave the views without one."""

from __future__ import annotations

import asyncpg

from projections.commitment_view import CommitmentViews
from tests.faults.service import Load, Service
from tests.faults.views import caught_up
from tests.faults.workers import poll

VIEWS = CommitmentViews.name
MADE = """
SELECT stream_id::text AS id, count(*) AS made, min(position) AS position FROM events
WHERE type = 'commitment.made' GROUP BY stream_id
"""
LIVE_SCHEMA = """
SELECT quote_ident(name || '_g' || live_generation) FROM projections WHERE name = $1
"""
# Keys retried after a 503 are the interesting ones to ask again; a few of each client's others.
REPLAYS_PER_CLIENT = 10


def answered_statuses(load: Load) -> None:
    """Every answer was a 2xx or a documented 503: never a 500, never another refusal."""
    unexpected = [u for c in load.clients for u in c.unexpected]
    assert not unexpected, unexpected[:5]
    assert set(load.statuses()) <= {200, 201, 503}, load.statuses()


async def each_once(pool: asyncpg.Pool, load: Load) -> None:
    """Each acknowledged commitment is in the log exactly once, where its answer said; and the
    log holds nothing else, since every key was retried until answered."""
    made = {r["id"]: (r["made"], r["position"]) for r in await pool.fetch(MADE)}
    answers = [a for c in load.clients for a in c.acked.values()]
    assert len({a["stream_id"] for a in answers}) == len(answers), "two keys, one commitment"
    for answer in answers:
        assert made.get(answer["stream_id"]) == (1, answer["position"]), answer
    assert len(made) == len(answers), "the log holds a commitment no client was told of"


async def replays_agree(load: Load) -> None:
    """Sending a key again answers the first answer, replayed, and writes nothing."""
    for client in load.clients:
        keys = sorted(client.refused) + sorted(set(client.acked) - client.refused)
        for key in keys[:REPLAYS_PER_CLIENT]:
            again = await client.post(key)
            assert again.is_success, again.text
            assert again.headers.get("idempotent-replayed") == "true"
            first = client.acked[key]
            assert (again.json()["stream_id"], again.json()["position"]) == (
                first["stream_id"],
                first["position"],
            )


async def views_hold_all(pool: asyncpg.Pool, load: Load, service: Service, token: str) -> None:
    """The views catch up with the log, hold every acknowledged commitment, and run."""
    await poll(lambda: caught_up(pool), 30, f"views never caught up:\n{service.output()[-3000:]}")
    schema = await pool.fetchval(LIVE_SCHEMA, VIEWS)
    shown = {str(r[0]) for r in await pool.fetch(f"SELECT commitment_id FROM {schema}.commitments")}
    acked = {a["stream_id"] for c in load.clients for a in c.acked.values()}
    assert acked <= shown, f"{len(acked - shown)} acknowledged commitments missing from the views"

    async def running() -> bool:
        answer = await service.http.get(
            "/projections", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.text
        return all(p["state"] == "running" for p in answer.json() if p["live"])

    await poll(running, 15, f"projections not running:\n{service.output()[-3000:]}")
