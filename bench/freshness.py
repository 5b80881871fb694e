"""How soon an event shows in the views after its append, at idle load.

    uv run python bench/freshness.py [--commands 300] [--workers 2] [--projections inside|apart]

Serves the API with the production command (`tracker serve`, granian, projections running
inside it) on a fresh database, then sends one `POST /commitments` at a time, a random 20-120 ms
apart, and after each answer polls the projections' checkpoints every 0.5 ms until every view
has applied the new event. Prints p50/p95/p99/max of the time from the answer to the views
having it (the target: p99 under 200 ms), and from the request's start, which bounds
the append from the other side. With several workers, a command served by the worker that runs
the projections wakes them at once; one served by another worker is found by the 50 ms poll.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import msgspec
import uvloop

from bench.api_seed import seed
from bench.common import fresh_database
from bench.serving import fetch, serving
from projections.consistency import reached
from projections.registry import all_projections

TARGET_MS = 200.0


async def measure(url: str, base: str, lines: list[tuple[str, str, str, object]], n: int) -> None:
    """Send n commands one at a time; time each until every projection has applied it."""
    names = [p.name for p in all_projections()]
    conn = await asyncpg.connect(url)
    rng = random.Random(1)
    from_answer, from_request = [], []
    try:
        for i in range(n):
            await asyncio.sleep(rng.uniform(0.02, 0.12))  # idle: nothing else in flight
            method, path, token, body = lines[i % len(lines)]
            sent = time.perf_counter()
            status, text = await asyncio.to_thread(fetch, base + path, method, token, body)
            answered = time.perf_counter()
            if status != 201:
                sys.exit(f"{method} {path} answered {status}: {text}")
            position = msgspec.json.decode(text)["position"]
            while not await reached(conn, position, names):  # type: ignore[arg-type]
                if time.perf_counter() - answered > 5:
                    sys.exit(f"the views did not apply position {position} within 5 s")
                await asyncio.sleep(0.0005)
            seen = time.perf_counter()
            from_answer.append((seen - answered) * 1000)
            from_request.append((seen - sent) * 1000)
    finally:
        await conn.close()
    print(f"{n} commands, one at a time; ms until every view had the event:")
    print(f"{'from':<14} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}")
    for label, values in (("the answer", from_answer), ("the request", from_request)):
        cuts = statistics.quantiles(values, n=100)
        print(f"{label:<14} {cuts[49]:7.1f} {cuts[94]:7.1f} {cuts[98]:7.1f} {max(values):7.1f}")
    p99 = statistics.quantiles(from_answer, n=100)[98]
    met = "met" if p99 < TARGET_MS else "NOT met"
    print(f"target: p99 under {TARGET_MS:.0f} ms from the answer ({met})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument(
        "--projections",
        choices=("inside", "apart"),
        default="inside",
        help="run the projections in the server or in `tracker projections run` beside it",
    )
    args = parser.parse_args()
    url = uvloop.run(fresh_database("tracker_bench_freshness"))
    lines = uvloop.run(seed(url))["make"]
    serve = argparse.Namespace(server="granian", workers=args.workers, projections=args.projections)
    with serving(serve, url, "service") as (base, _):
        uvloop.run(measure(url, base, lines, args.commands))


if __name__ == "__main__":
    main()
