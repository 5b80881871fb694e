"""The sealer: seal the log every few seconds in the server, or once from the command line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

from tracker.application.clock import Now, system_now
from tracker.audit import seals
from tracker.audit.keys import SigningKey, signing_key
from tracker.audit.seals import Seal
from tracker.connections import SEALER
from tracker.database import create_pool
from tracker.settings import Settings

log = logging.getLogger("tracker.audit")


class Sealing:
    """The sealer's own thread and event loop, stopped from the server's loop."""

    def __init__(
        self,
        url: str,
        key: SigningKey,
        every: float,
        now: Now,
        origin: str,
        settings: Settings | None = None,
    ) -> None:
        self.url, self.key, self.every, self.now, self.origin = url, key, every, now, origin
        self.settings = settings
        self.thread = threading.Thread(target=self._main, name="sealer")
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    def start(self) -> None:
        """Start sealing; return once the thread can be stopped."""
        self.thread.start()
        self._ready.wait()

    def stop(self) -> None:
        """Ask the thread to stop after the seal under way, if any."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    def _main(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self._ready.set()
        while not self._stop.is_set():
            try:
                head = await _seal_once(self.url, self.key, self.now, self.origin, self.settings)
                if head is not None:
                    log.info("sealed %d events: %s", head.tree_size, head.root_hash.hex())
            except Exception:
                # A damaged tree or a lost connection must not stop the server; keep trying.
                log.exception("sealing failed")
            # The loop's relative timer, not threading.Event.wait(every): that waits for an
            # absolute deadline on the monotonic clock, which never comes when a clock-shifting
            # tool (libfaketime, as the date-independence tests use) offsets that clock.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.every)


async def _seal_once(
    url: str, key: SigningKey, now: Now, origin: str, settings: Settings | None = None
) -> Seal | None:
    pool = await create_pool(url, size=1, role=SEALER, settings=settings)
    try:
        # wait=False: with several workers, whoever holds the lock seals for all of them.
        return await seals.seal(pool, key, wait=False, now=now, origin=origin)
    finally:
        await pool.close()


@contextlib.asynccontextmanager
async def running_sealer(
    url: str,
    key: SigningKey,
    every: float,
    now: Now = system_now,
    origin: str = seals.DEFAULT_ORIGIN,
    settings: Settings | None = None,
) -> AsyncIterator[None]:
    """Seal in the background while the block runs; every <= 0 turns the sealer off."""
    if every <= 0:
        yield
        return
    # A thread of its own, with its own loop and connection: hashing ten seconds of events on
    # the server's event loop held its requests up by 100-400 ms at p99 (bench/api.py).
    sealing = Sealing(url, key, every, now, origin, settings)
    sealing.start()
    try:
        yield
    finally:
        sealing.stop()
        await asyncio.to_thread(sealing.thread.join)


def head_json(head: Seal) -> str:
    """A tree head as an auditor would keep it."""
    return json.dumps(
        {
            "tree_size": head.tree_size,
            "root_hash": head.root_hash.hex(),
            "sealed_at": seals.timestamp(head.sealed_at),
            "key_id": head.key_id,
            "signature": head.signature.hex(),
        }
    )


async def seal_now(
    pool: asyncpg.Pool,
    data_dir: Path,
    key_file: Path | None,
    origin: str = seals.DEFAULT_ORIGIN,
) -> tuple[Seal, bool]:
    """Seal now; the newest head, and whether it is new."""
    key = await asyncio.to_thread(signing_key, data_dir, key_file)
    head = await seals.seal(pool, key, origin=origin)
    if head is not None:
        return head, True
    newest = await seals.latest(pool)
    if newest is None:
        raise LookupError("the log is empty: nothing to seal")
    return newest, False
