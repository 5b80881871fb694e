"""Webhook deliveries to real receivers on loopback: signed, in order per stream, retried,
dead-lettered, redelivered."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from standardwebhooks import Webhook

from projections.consistency import wait_until
from projections.registry import all_projections
from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, seed_world
from tests.clock import Clock
from tests.feed.receivers import FAIL, HANG, OK, Message, Receiver, fails_times
from tests.feed.streams import commitments
from tracker import tokens
from tracker.eventstore.repository import Repository
from tracker.feed.deliverer import Deliverer

Start = Callable[..., Awaitable[Receiver]]


async def subscribe(
    client: AsyncTestClient[Any], headers: dict[str, str], url: str, **filters: Any
) -> dict[str, Any]:
    r = await client.post("/subscriptions", json={"target_url": url, **filters}, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def position(webhook_id: str) -> int:
    """Where a message's event stands in the log, from its webhook-id."""
    return int(webhook_id.rsplit("_", 1)[1])


def by_stream(messages: list[Message]) -> dict[str, list[int]]:
    """Each stream's delivered versions, in the order they arrived."""
    versions: dict[str, list[int]] = defaultdict(list)
    for m in messages:
        versions[m.event["subject"]].append(m.event["data"]["version"])
    return versions


async def test_each_delivery_is_a_signed_cloud_event_the_reference_library_verifies(
    client: AsyncTestClient[Any],
    issue: Tokens,
    repository: Repository,
    deliverer: Deliverer,
    receivers: Start,
    clock: Clock,
) -> None:
    receiver = await receivers()
    made = await subscribe(client, await issue.headers("admin"), receiver.url)
    assert made["secret"].startswith("whsec_")
    world = await seed_world(repository)
    streams = await commitments(world, clock, 2, progress=1)
    await deliverer.run_until_idle()
    # An admin's subscription carries the whole log: the seeded world's events first.
    everything = receiver.delivered()
    delivered = [m for m in everything if m.event["subject"] in map(str, streams)]
    assert len(delivered) == 6 and len(everything) > 6
    verifier = Webhook(made["secret"])
    for m in everything:
        verifier.verify(m.body, m.headers)
        assert m.headers["webhook-id"] == m.event["id"]
        event = m.event
        assert event["specversion"] == "1.0" and event["source"] == "https://tracker.test/log"
        assert event["type"] == event["data"]["type"] and event["data"]["hash"]
    # Order holds within a stream (streams go out concurrently): each begins with its making.
    firsts = {s: next(m for m in delivered if m.event["subject"] == str(s)) for s in streams}
    assert {m.event["type"] for m in firsts.values()} == {"commitment.made"}
    # Secrets are shown once: never in a read.
    got = await client.get(
        f"/subscriptions/{made['subscription']['id']}", headers=await issue.headers("admin")
    )
    assert "whsec_" not in got.text and got.headers["etag"] == '"1"'


async def test_a_failing_stream_holds_back_only_its_own_events_and_keeps_their_order(
    client: AsyncTestClient[Any],
    issue: Tokens,
    repository: Repository,
    deliverer: Deliverer,
    receivers: Start,
    clock: Clock,
) -> None:
    world = await seed_world(repository)
    failing: list[str] = []
    receiver = await receivers(decide=fails_times(3, lambda m: m.event["subject"] in failing))
    headers = await issue.headers("admin")
    made = await subscribe(
        client,
        headers,
        receiver.url,
        types=["commitment.made", "commitment.accepted", "commitment.progress_reported"],
    )
    streams = await commitments(world, clock, 3, progress=3)
    failing.append(str(streams[0]))
    await deliverer.run_until_idle()
    versions = by_stream(receiver.delivered())
    assert str(streams[0]) not in versions, "the failing stream waits"
    assert versions[str(streams[1])] == versions[str(streams[2])] == [1, 2, 3, 4, 5]
    state = (
        await client.get(f"/subscriptions/{made['subscription']['id']}", headers=headers)
    ).json()
    assert state["waiting"] == 5 and state["next_retry_at"] is not None
    # Each retry comes due as the clock moves; the stream then goes out in order.
    for _ in range(4):
        clock.advance(minutes=10)
        await deliverer.run_until_idle()
    assert by_stream(receiver.delivered())[str(streams[0])] == [1, 2, 3, 4, 5]
    log = (
        await client.get(f"/subscriptions/{made['subscription']['id']}/deliveries", headers=headers)
    ).json()
    failures = [a for a in log["attempts"] if a["status_code"] == 500]
    assert len(failures) == 3 and all(a["duration_ms"] >= 0 for a in log["attempts"])
    assert [a["attempt"] for a in reversed(failures)] == [1, 2, 3]


async def test_a_receiver_that_closes_every_connection_gets_each_pipelined_delivery_once(
    client: AsyncTestClient[Any],
    issue: Tokens,
    repository: Repository,
    deliverer: Deliverer,
    receivers: Start,
    clock: Clock,
) -> None:
    receiver = await receivers(keep_alive=False)
    headers = await issue.headers("admin")
    types = ["commitment.made", "commitment.accepted", "commitment.progress_reported"]
    await subscribe(client, headers, receiver.url, types=types)
    streams = await commitments(await seed_world(repository), clock, 6, progress=2)
    await deliverer.run_until_idle()
    # Deliveries of a wave share a connection; those the receiver never read go again, once.
    assert len(receiver.messages) == len(receiver.delivered()) == 6 * 4
    versions = by_stream(receiver.delivered())
    assert all(versions[str(s)] == [1, 2, 3, 4] for s in streams)


async def test_a_day_of_failures_dead_letters_pauses_and_redelivery_sends_them_again(
    client: AsyncTestClient[Any],
    issue: Tokens,
    repository: Repository,
    deliverer: Deliverer,
    receivers: Start,
    clock: Clock,
    pool: asyncpg.Pool,
) -> None:
    up = [False]
    receiver = await receivers(decide=lambda m: OK if up[0] else FAIL)
    headers = await issue.headers("admin")
    made = await subscribe(client, headers, receiver.url, types=["commitment.made"])
    sid = made["subscription"]["id"]
    world = await seed_world(repository)
    await commitments(world, clock, 2, progress=0)
    await deliverer.run_until_idle()
    hours = 0
    while (await client.get(f"/subscriptions/{sid}", headers=headers)).json()["status"] == "active":
        clock.advance(hours=1)
        hours += 1
        await deliverer.run_until_idle()
        assert hours < 40
    assert hours >= 24, "retried for at least a day"
    state = (await client.get(f"/subscriptions/{sid}", headers=headers)).json()
    assert state["paused_reason"] == "failing" and state["dead_letters"] == 2
    letters = (await client.get(f"/subscriptions/{sid}/dead-letters", headers=headers)).json()
    assert len(letters["dead_letters"]) == 2 and letters["dead_letters"][0]["last_status"] == 500
    metrics = (await client.get("/metrics", headers=headers)).text
    assert 'tracker_subscriptions{status="paused"} 1.0' in metrics
    me = (await client.get("/me", headers=headers)).json()
    assert me["subscriptions"] == {"total": 1, "paused": 1, "paused_failing": 1}
    up[0] = True
    r = await client.post(f"/subscriptions/{sid}/redeliveries", json={}, headers=headers)
    assert r.json() == {"redelivered": 2}
    assert (await client.post(f"/subscriptions/{sid}/resume", headers=headers)).status_code == 200
    await deliverer.run_until_idle()
    assert [m.event["type"] for m in receiver.delivered()] == ["commitment.made"] * 2
    assert (await client.get(f"/subscriptions/{sid}", headers=headers)).json()["dead_letters"] == 0


async def test_a_receiver_that_hangs_times_out_and_a_receiver_that_is_down_is_retried(
    client: AsyncTestClient[Any],
    issue: Tokens,
    repository: Repository,
    deliverer: Deliverer,
    receivers: Start,
    clock: Clock,
) -> None:
    hanging = await receivers(decide=lambda m: HANG)
    down = await receivers()
    await down.stop()
    headers = await issue.headers("admin")
    for receiver in (hanging, down):
        await subscribe(client, headers, receiver.url, types=["commitment.made"])
    world = await seed_world(repository)
    await commitments(world, clock, 1, progress=0)
    await deliverer.run_until_idle()
    listed = (await client.get("/subscriptions", headers=headers)).json()
    errors = {}
    for s in listed:
        log = (await client.get(f"/subscriptions/{s['id']}/deliveries", headers=headers)).json()
        errors[s["target_url"]] = log["attempts"][0]["error"]
        assert s["waiting"] == 1
    assert errors[hanging.url] == "no answer in 1.0 s"
    assert "Connect" in errors[down.url] or "refused" in errors[down.url]
    await down.start()
    clock.advance(minutes=1)
    await deliverer.run_until_idle()
    assert len(down.delivered()) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/hook",
        "ftp://example.org/hook",
        "http://127.0.0.1:8000/subscriptions",
    ],
)
async def test_targets_at_metadata_link_local_or_the_service_itself_are_refused(
    client: AsyncTestClient[Any], issue: Tokens, url: str
) -> None:
    r = await client.post(
        "/subscriptions", json={"target_url": url}, headers=await issue.headers("admin")
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "target_url"


async def test_a_rotated_secret_signs_beside_the_new_one_for_its_grace_period(
    client: AsyncTestClient[Any],
    issue: Tokens,
    repository: Repository,
    deliverer: Deliverer,
    receivers: Start,
    clock: Clock,
) -> None:
    receiver = await receivers()
    headers = await issue.headers("admin")
    made = await subscribe(client, headers, receiver.url, types=["commitment.made"])
    sid = made["subscription"]["id"]
    rotated = await client.post(f"/subscriptions/{sid}/secret-rotation", headers=headers)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    world = await seed_world(repository)
    await commitments(world, clock, 1, progress=0)
    await deliverer.run_until_idle()
    clock.advance(hours=25)
    await commitments(world, clock, 1, progress=0)
    await deliverer.run_until_idle()
    during, after = receiver.delivered()
    for m in (during, after):
        Webhook(new).verify(m.body, m.headers)
    Webhook(made["secret"]).verify(during.body, during.headers)
    with pytest.raises(Exception, match=r"[Ss]ignature"):
        Webhook(made["secret"]).verify(after.body, after.headers)


async def test_a_retried_command_replays_its_first_answer(
    client: AsyncTestClient[Any], issue: Tokens
) -> None:
    headers = await issue.headers("admin") | {"Idempotency-Key": str(uuid.uuid4())}
    body = {"target_url": "http://127.0.0.1:9/hook"}
    first = await client.post("/subscriptions", json=body, headers=headers)
    again = await client.post("/subscriptions", json=body, headers=headers)
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert len((await client.get("/subscriptions", headers=headers)).json()) == 1


async def test_a_subscription_stops_with_its_creators_token_and_resumes_with_none_lost(
    client: AsyncTestClient[Any],
    issue: Tokens,
    repository: Repository,
    deliverer: Deliverer,
    receivers: Start,
    clock: Clock,
    pool: asyncpg.Pool,
) -> None:
    receiver = await receivers()
    token = await tokens.issue(pool, "case-system", "integration", None)
    headers = {"Authorization": f"Bearer {token}"}
    made = await subscribe(client, headers, receiver.url, types=["commitment.made"])
    assert made["subscription"]["status"] == "active"
    assert await tokens.revoke(
        pool, uuid.UUID(str(await pool.fetchval("SELECT id FROM api_tokens")))
    )
    world = await seed_world(repository)
    await commitments(world, clock, 2, progress=0)
    await deliverer.run_until_idle()
    assert receiver.messages == [], "a revoked token's subscription reads nothing"


async def test_the_delivery_log_keeps_only_its_newest_attempts(
    client: AsyncTestClient[Any],
    issue: Tokens,
    repository: Repository,
    deliverer: Deliverer,
    receivers: Start,
    clock: Clock,
    pool: asyncpg.Pool,
) -> None:
    receiver = await receivers()
    headers = await issue.headers("admin")
    made = await subscribe(client, headers, receiver.url, types=["commitment.progress_reported"])
    world = await seed_world(repository)
    trimmed = Deliverer(
        pool,
        repository,
        deliverer.client,
        source="https://tracker.test/log",
        retry_for=timedelta(hours=24),
        keep_attempts=4,
        now=clock,
    )
    for _ in range(3):
        await commitments(world, clock, 3, progress=2)
        await trimmed.run_until_idle()
    assert len(receiver.delivered()) == 18
    log = (
        await client.get(
            f"/subscriptions/{made['subscription']['id']}/deliveries?limit=100", headers=headers
        )
    ).json()
    # Only the newest four attempts remain, all of the last round's six events (a round logs
    # its streams' attempts together, stream by stream, so not necessarily in log order).
    ids = sorted((m.headers["webhook-id"] for m in receiver.delivered()), key=position)
    kept = {a["webhook_id"] for a in log["attempts"]}
    assert len(log["attempts"]) == len(kept) == 4 and kept <= set(ids[-6:])
    assert await pool.fetchval("SELECT count(*) FROM subscription_attempts") == 4


async def caught_up(pool: asyncpg.Pool) -> None:
    """Wait for every view to hold the whole log: the names come from the views."""
    last: int = await pool.fetchval("SELECT max(position) FROM events")
    assert await wait_until(pool, last, tuple(p.name for p in all_projections()))


async def test_a_delivery_names_what_its_event_mentions_as_named_when_it_is_sent(
    client: AsyncTestClient[Any],
    issue: Tokens,
    repository: Repository,
    deliverer: Deliverer,
    receivers: Start,
    clock: Clock,
    pool: asyncpg.Pool,
) -> None:
    receiver = await receivers()
    await subscribe(client, await issue.headers("admin"), receiver.url, types=["commitment.made"])
    world = await seed_world(repository)
    assert world.forum is not None and world.purpose is not None
    [first] = await commitments(world, clock, 1, progress=0)
    await caught_up(pool)
    await deliverer.run_until_idle()
    [made] = [m.event["data"] for m in receiver.delivered()]
    assert made["stream_id"] == str(first)
    assert made["names"] == {
        str(world.id("amina")): "Amina",
        str(world.id("ben")): "Ben",
        str(world.forum.id): "Warm spaces partnership",
        str(world.purpose.id): "Nobody is cold this winter",
    }
    # A rename shows in the deliveries sent after it; those sent before keep the old name.
    world.forum.rename("Warm homes partnership")
    await repository.save(world.forum, context=SEEDER)
    await commitments(world, clock, 1, progress=0)
    await caught_up(pool)
    await deliverer.run_until_idle()
    later = receiver.delivered()[-1].event["data"]
    assert later["names"][str(world.forum.id)] == "Warm homes partnership"
    assert receiver.delivered()[0].event["data"]["names"][str(world.forum.id)] == (
        "Warm spaces partnership"
    )
