"""The standalone verifier: byte-for-byte agreement with the server's encodings, agreement with
`verify` on an untouched export, and detection of every kind of tampering."""

from __future__ import annotations

import json
import math
import random
import shutil
import struct
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest

from tests.audit.test_export_import import exported
from tests.audit.test_verify import (
    Sealed,
    log,
    rechain,
    reinsert,
    sealed,
    sealed_history,
    tamper,
)
from tracker.audit import merkle, seals, standalone
from tracker.audit.keys import SigningKey
from tracker.audit.sealer import head_json
from tracker.audit.verify import verify
from tracker.eventstore.chain import canonical_of, encode_payload
from tracker.eventstore.repository import Repository

MODULE = Path(standalone.__file__)
SORTED = msgspec.json.Encoder(order="sorted")


# --- Byte-for-byte agreement -----------------------------------------------------------------


def random_float(rng: random.Random) -> float:
    while True:
        x: float = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if math.isfinite(x):
            return x


def random_string(rng: random.Random) -> str:
    alphabet = ['"', "\\", "\n", "\t", "\x00", "\x1f", "\x7f", "é", "€", "\u2028", "😀", "a", "/"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randint(0, 9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.randint(-(2**70), 2**70)
    if kind == 3:
        return random_float(rng)
    if kind == 4:
        return rng.choice([0.0, -0.0, 1e-5, 1.25e-5, -3e-5, 1e-6, 1e15, 1e16, 0.1, 123.456, 1e300])
    if kind in (5, 6):
        return random_string(rng)
    if kind in (7, 8):
        return {random_string(rng): random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def test_canonical_json_agrees_with_msgspec_byte_for_byte() -> None:
    rng = random.Random(20261126)
    for _ in range(20_000):
        value = random_value(rng)
        assert standalone.encode(value) == SORTED.encode(value), value
    for _ in range(20_000):
        x = random_float(rng) * 10.0 ** rng.randint(-30, 30)
        if math.isfinite(x):
            assert standalone.encode(x) == SORTED.encode(x), repr(x)


def test_times_agree_with_msgspec_byte_for_byte() -> None:
    rng = random.Random(7)
    for _ in range(5_000):
        moment = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(
            seconds=rng.randint(0, 10**9), microseconds=rng.choice([0, rng.randint(0, 999_999)])
        )
        assert standalone.encode(moment) == SORTED.encode(moment)
        shifted = moment.astimezone(timezone(timedelta(hours=rng.randint(-12, 12))))
        assert standalone._datetime(shifted) == SORTED.encode(moment).decode().strip('"')


def test_the_signed_head_message_agrees_with_the_sealer() -> None:
    key = SigningKey.generate()
    at = datetime(2026, 11, 26, 10, 0, 0, 120000, tzinfo=UTC)
    seal = seals.Seal(42, bytes(range(32)), at, key.key_id, b"")
    head = standalone.Head(42, bytes(range(32)), at, key.key_id, b"")
    assert head.message() == seal.message
    saved = json.loads(head_json(msgspec.structs.replace(seal, signature=key.sign(seal.message))))
    assert standalone._time(saved["sealed_at"]) == at


# --- Against real exports --------------------------------------------------------------------


class Auditor:
    """What an auditor keeps: the saved heads and the public key, in files."""

    def __init__(self, history: Sealed, folder: Path) -> None:
        self.folder = folder
        self.heads = folder / "heads.json"
        self.heads.write_text("[" + ",\n".join(head_json(h) for h in history.heads) + "]\n")
        self.key = folder / "public-key.pem"
        self.key.write_text(history.key.public_pem)

    async def check(self, pool: asyncpg.Pool) -> tuple[int, str]:
        """Export what the server now serves, and run the standalone verifier on it."""
        count = int(await pool.fetchval("SELECT count(*) FROM events"))
        export = self.folder / "export.ndjson"
        export.write_bytes(await exported(pool, count))
        return run(export, self.heads, self.key)


def run(*paths: Path) -> tuple[int, str]:
    """Run the verifier as an auditor would: a copy of the one file, in isolated mode, so
    nothing from this project can be imported."""
    folder = paths[0].parent / "auditor"
    folder.mkdir(exist_ok=True)
    copy = folder / "standalone.py"
    shutil.copy(MODULE, copy)
    done = subprocess.run(
        [sys.executable, "-I", str(copy), *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=folder,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
async def history(repository: Repository, pool: asyncpg.Pool) -> Sealed:
    return await sealed_history(repository, pool)


def test_the_verifier_imports_nothing_from_the_project() -> None:
    source = MODULE.read_text()
    assert {"tracker", "msgspec", "projections"}.isdisjoint(
        line.split()[1].split(".")[0]
        for line in source.splitlines()
        if line.startswith(("import ", "from "))
    )


async def test_an_untouched_export_verifies_here_and_on_the_server(
    history: Sealed, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    auditor = Auditor(history, tmp_path)
    status, said = await auditor.check(pool)
    assert status == 0, said
    assert f"checked {history.count:,} events" in said and "OK" in said
    assert (await verify(pool, history.heads, history.key.public_raw)).ok


async def test_canonical_bytes_of_every_exported_event_agree_with_the_server(
    history: Sealed, pool: asyncpg.Pool
) -> None:
    lines = (await exported(pool, history.count)).splitlines()
    for line, event in zip(lines, await log(pool), strict=True):
        e = json.loads(line)
        assert standalone.canonical_bytes(e) == canonical_of(event)
        assert standalone.encode(e["payload"]) == encode_payload(event.payload)
        assert standalone.leaf_bytes(e) == merkle.leaf_bytes(
            event.position, event.stream_id, event.version, event.recorded_at, event.hash
        )


Tampering = Callable[[asyncpg.Pool, Sealed], Awaitable[None]]


async def change_a_payload(pool: asyncpg.Pool, history: Sealed) -> None:
    victim = (await log(pool))[history.count // 2]
    await tamper(
        pool,
        (
            "UPDATE events SET payload = payload || '{\"x\": 1}' WHERE position = $1",
            victim.position,
        ),
    )


async def delete_the_newest(pool: asyncpg.Pool, history: Sealed) -> None:
    newest = [e.position for e in (await log(pool))[-3:]]
    await tamper(pool, ("DELETE FROM events WHERE position = ANY($1)", newest))


async def delete_one_in_the_middle(pool: asyncpg.Pool, history: Sealed) -> None:
    events = await log(pool)
    last = {e.stream_id: e.version for e in events}
    victim = next(e for e in events[100:] if e.version < last[e.stream_id])
    await tamper(pool, ("DELETE FROM events WHERE position = $1", victim.position))


async def swap_two(pool: asyncpg.Pool, history: Sealed) -> None:
    events = await log(pool)
    a, b = events[50], events[150]
    swapped = [
        msgspec.structs.replace(a, position=b.position, transaction_id=b.transaction_id),
        msgspec.structs.replace(b, position=a.position, transaction_id=a.transaction_id),
    ]
    await tamper(
        pool,
        ("DELETE FROM events WHERE position = ANY($1)", [a.position, b.position]),
        *reinsert(swapped),
    )


async def insert_a_forged_event(pool: asyncpg.Pool, history: Sealed) -> None:
    events = await log(pool)
    stream = [e for e in events if e.stream_id == events[60].stream_id]
    forged = msgspec.structs.replace(
        stream[-1], position=max(e.position for e in events) + 1, actor="leader:mallory"
    )
    rewritten = rechain([*stream[:1], forged, *stream[1:]])
    await tamper(
        pool,
        ("DELETE FROM events WHERE stream_id = $1 AND version > 1", stream[0].stream_id),
        *reinsert(rewritten[1:]),
    )


async def replace_everything(pool: asyncpg.Pool, history: Sealed) -> None:
    events = await log(pool)
    stream = [e for e in events if e.stream_id == events[7].stream_id]
    changed = [msgspec.structs.replace(e, actor="leader:mallory") for e in stream]
    await tamper(
        pool,
        ("DELETE FROM events WHERE stream_id = $1", stream[0].stream_id),
        *reinsert(rechain(changed)),
    )
    await pool.execute("TRUNCATE merkle_leaves, merkle_nodes, seals, seal_keys")
    await sealed(pool, SigningKey.generate(), history.count)


@pytest.mark.parametrize(
    ("tampering", "expected"),
    [
        (change_a_payload, "hash does not match"),
        (delete_the_newest, "covers more events than the export holds"),
        (delete_one_in_the_middle, "expected version"),
        (swap_two, "reordered or replaced; the first change is among events 1 to "),
        (insert_a_forged_event, "the log was altered, reordered or replaced"),
        (replace_everything, "the log was altered, reordered or replaced"),
    ],
)
async def test_each_tampering_is_caught_here_and_on_the_server(
    history: Sealed, pool: asyncpg.Pool, tmp_path: Path, tampering: Tampering, expected: str
) -> None:
    auditor = Auditor(history, tmp_path)
    await tampering(pool, history)
    status, said = await auditor.check(pool)
    assert status == 1, said
    assert "FAILED" in said and expected in said
    server = await verify(pool, history.heads, history.key.public_raw)
    assert not server.ok
    # Where the server names a broken chain, the standalone verifier names the same event.
    for finding in server.findings:
        if finding.kind == "chain":
            assert f"stream {finding.stream_id} version {finding.version} " in said


async def test_heads_that_were_altered_or_signed_by_another_key_are_refused(
    history: Sealed, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    auditor = Auditor(history, tmp_path)
    heads = json.loads(auditor.heads.read_text())
    heads[1]["tree_size"] += 1
    auditor.heads.write_text(json.dumps(heads))
    status, said = await auditor.check(pool)
    assert status == 1
    assert f"tree size {heads[1]['tree_size']:,}: the signature does not verify" in said

    auditor = Auditor(history, tmp_path)
    auditor.key.write_text(SigningKey.generate().public_pem)
    status, said = await auditor.check(pool)
    assert status == 1
    assert f"names key {history.key.key_id}, not the given public key" in said


async def test_unusable_inputs_exit_2(tmp_path: Path) -> None:
    assert run(tmp_path / "missing.ndjson", tmp_path / "h.json", tmp_path / "k.pem")[0] == 2
    status, said = run(tmp_path / "only-one")
    assert status == 2 and "python standalone.py export.ndjson heads.json" in said
