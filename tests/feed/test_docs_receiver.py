"""The receiver docs/integrations.md gives integrators verifies real deliveries, refuses forged
ones and answers a repeat as done."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import seed_world
from tests.clock import Clock
from tests.conftest import ROOT
from tests.feed.receivers import Receiver
from tests.feed.streams import commitments
from tracker.eventstore.repository import Repository
from tracker.feed.deliverer import Deliverer


def snippet() -> str:
    """The Python block of docs/integrations.md that uses the reference library."""
    text = (ROOT / "docs" / "integrations.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    return next(b for b in blocks if "standardwebhooks" in b)


async def test_the_documented_receiver_verifies_a_real_delivery(
    client: AsyncTestClient[Any],
    issue: Tokens,
    repository: Repository,
    deliverer: Deliverer,
    receivers: Callable[..., Awaitable[Receiver]],
    clock: Clock,
) -> None:
    receiver = await receivers()
    r = await client.post(
        "/subscriptions",
        json={"target_url": receiver.url, "types": ["commitment.made"]},
        headers=await issue.headers("admin"),
    )
    handled: list[tuple[str, str]] = []
    scope: dict[str, Any] = {"handle": lambda kind, subject, data: handled.append((kind, subject))}
    exec(snippet().replace('"whsec_..."', repr(r.json()["secret"])), scope)
    world = await seed_world(repository)
    [made] = await commitments(world, clock, 1, progress=0)
    await deliverer.run_until_idle()
    [delivery] = receiver.delivered()
    receive = scope["receive"]
    assert receive(delivery.body, delivery.headers) == 204
    assert handled == [("commitment.made", str(made))]
    assert receive(delivery.body, delivery.headers) == 204 and len(handled) == 1
    forged = delivery.body.replace(b"commitment.made", b"commitment.done")
    assert receive(forged, delivery.headers) == 400
