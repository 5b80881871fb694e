"""An insider with superuser access and the signing key tampers with a sealed log; verification
that trusts only what the auditor kept (the pinned key, saved heads, an earlier export) names
the event that changed and fails."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import msgspec
import pytest

from tests.audit.test_export_import import exported
from tests.audit.test_standalone import Auditor, run
from tests.audit.test_verify import (
    Sealed,
    kinds,
    log,
    rechain,
    reinsert,
    sealed,
    sealed_history,
    tamper,
    text,
)
from tracker.audit import seals
from tracker.audit.findings import Finding, Report
from tracker.audit.keys import SigningKey, public_pem
from tracker.audit.locate_changes import Earlier
from tracker.audit.sealer import head_json
from tracker.audit.verify import verify
from tracker.eventstore import RecordedEvent
from tracker.eventstore.repository import Repository

RESEAL = "TRUNCATE merkle_leaves, merkle_nodes, seals, seal_keys"


@pytest.fixture
async def history(repository: Repository, pool: asyncpg.Pool) -> Sealed:
    return await sealed_history(repository, pool)


def tracker(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a `tracker` command on the test database, as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "tracker", *args],
        env={"TRACKER_DATABASE_URL": database_url, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=False,
    )


def change(report: Report) -> Finding:
    """The finding that names the first event differing from a saved head."""
    return next(f for f in report.findings if f.kind == "change")


async def keep_export(pool: asyncpg.Pool, history: Sealed, tmp_path: Path) -> Earlier:
    """The export an auditor verified against the heads and kept."""
    path = tmp_path / "earlier.ndjson"
    path.write_bytes(await exported(pool, history.count))
    return Earlier.read(path)


async def rewrite(pool: asyncpg.Pool, victim: RecordedEvent) -> None:
    """Change one event's payload and recompute its stream's chain from there on."""
    stream = [e for e in await log(pool) if e.stream_id == victim.stream_id]
    changed = [
        msgspec.structs.replace(e, actor="leader:mallory") if e.position == victim.position else e
        for e in stream
    ]
    await tamper(
        pool,
        ("DELETE FROM events WHERE stream_id = $1", victim.stream_id),
        *reinsert(rechain(changed)),
    )


async def test_a_changed_payload_byte_is_named(history: Sealed, pool: asyncpg.Pool) -> None:
    victim = (await log(pool))[history.count // 2]
    await tamper(
        pool,
        (
            "UPDATE events SET payload = jsonb_set(payload, '{x}', '1') WHERE position = $1",
            victim.position,
        ),
    )
    report = await verify(pool, history.heads, history.key.public_raw)
    assert not report.ok
    # A leaf commits to the stored chain hash, which the change left alone: the chain names it.
    first = report.findings[0]
    assert (first.kind, first.stream_id, first.version, first.position) == (
        "chain",
        victim.stream_id,
        victim.version,
        victim.position,
    )


async def test_the_newest_event_deleted_is_named(history: Sealed, pool: asyncpg.Pool) -> None:
    newest = (await log(pool))[-1]
    await tamper(pool, ("DELETE FROM events WHERE position = $1", newest.position))
    report = await verify(pool, history.heads, history.key.public_raw)
    assert not report.ok
    located = change(report)
    assert located.position == newest.position
    assert f"leaf {history.count - 1}" in located.message
    assert "the log now has no event there" in located.message


async def test_a_middle_event_deleted_is_named(history: Sealed, pool: asyncpg.Pool) -> None:
    events = await log(pool)
    last = {e.stream_id: e.version for e in events}
    index, victim = next(
        (i, e) for i, e in enumerate(events) if i > 150 and e.version < last[e.stream_id]
    )
    await tamper(pool, ("DELETE FROM events WHERE position = $1", victim.position))
    report = await verify(pool, history.heads, history.key.public_raw)
    assert not report.ok
    located = change(report)
    assert located.position == victim.position
    assert f"leaf {index}" in located.message


async def test_two_swapped_events_are_named(history: Sealed, pool: asyncpg.Pool) -> None:
    events = await log(pool)
    a, b = events[100], events[200]
    swapped = [
        msgspec.structs.replace(a, position=b.position, transaction_id=b.transaction_id),
        msgspec.structs.replace(b, position=a.position, transaction_id=a.transaction_id),
    ]
    await tamper(
        pool,
        ("DELETE FROM events WHERE position = ANY($1)", [a.position, b.position]),
        *reinsert(swapped),
    )
    report = await verify(pool, history.heads, history.key.public_raw)
    assert not report.ok
    # The event now at the first sealed place that differs: b, moved to a's position.
    located = change(report)
    assert (located.stream_id, located.version, located.position) == (
        b.stream_id,
        b.version,
        a.position,
    )
    assert "leaf 100" in located.message


async def test_a_recomputed_chain_is_named(history: Sealed, pool: asyncpg.Pool) -> None:
    victim = (await log(pool))[120]
    await rewrite(pool, victim)
    report = await verify(pool, history.heads, history.key.public_raw)
    assert "chain" not in kinds(report)  # the forged chain is consistent
    assert not report.ok
    located = change(report)
    assert (located.stream_id, located.version) == (victim.stream_id, victim.version)
    assert located.position == victim.position


async def test_a_log_resealed_with_the_same_key_is_caught_by_saved_heads_and_named(
    history: Sealed, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    earlier = await keep_export(pool, history, tmp_path)
    victim = (await log(pool))[60]
    await rewrite(pool, victim)
    await pool.execute(RESEAL)
    await sealed(pool, history.key, history.count)
    assert (await verify(pool, (), history.key.public_raw)).ok, "the database agrees with itself"

    report = await verify(pool, history.heads, history.key.public_raw, earlier)
    assert not report.ok
    assert "key" not in kinds(report)  # the same key signed the forgery
    said = text(report)
    assert "seals were deleted or replaced" in said
    located = change(report)
    assert (located.stream_id, located.version, located.position) == (
        victim.stream_id,
        victim.version,
        victim.position,
    )
    assert "the earlier export reproduces the head" in located.message

    # Without a copy to compare with, the change is narrowed to the saved heads around it.
    blind = change(await verify(pool, history.heads, history.key.public_raw))
    assert blind.position is None
    assert f"among events 1 to {history.heads[0].tree_size}" in blind.message


async def test_seals_under_a_new_key_are_caught_by_the_pinned_key(
    history: Sealed, pool: asyncpg.Pool
) -> None:
    await pool.execute(RESEAL)
    mallory = SigningKey.generate()
    await sealed(pool, mallory, history.count)
    assert (await verify(pool)).ok, "without a pinned key the new key passes"

    report = await verify(pool, history.heads, history.key.public_raw)
    assert not report.ok
    keyed = [f for f in report.findings if f.kind == "key"]
    assert keyed and all(mallory.key_id in f.message for f in keyed)
    assert "change" not in kinds(report)  # no event changed, so none is named


async def test_a_new_key_with_the_seals_deleted_is_caught(
    history: Sealed, pool: asyncpg.Pool
) -> None:
    # Eleven of twelve seals gone: only one, signed by a new key, over the same events.
    await pool.execute(RESEAL)
    mallory = SigningKey.generate()
    await sealed(pool, mallory, history.count)
    assert await pool.fetchval("SELECT count(*) FROM seals") == 1

    report = await verify(pool, history.heads, history.key.public_raw)
    assert not report.ok
    assert "key" in kinds(report)
    missing = {f.tree_size for f in report.findings if "seals were deleted" in f.message}
    assert missing == {h.tree_size for h in history.heads[:-1]}


async def test_truncated_merkle_tables_resealed_after_a_deletion_are_named(
    history: Sealed, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    earlier = await keep_export(pool, history, tmp_path)
    newest = (await log(pool))[-1]
    await tamper(pool, ("DELETE FROM events WHERE position = $1", newest.position))
    await pool.execute(RESEAL)
    await sealed(pool, history.key, history.count - 1)
    assert (await verify(pool, (), history.key.public_raw)).ok, "the database agrees with itself"

    report = await verify(pool, history.heads, history.key.public_raw, earlier)
    assert not report.ok
    located = change(report)
    assert (located.stream_id, located.version, located.position) == (
        newest.stream_id,
        newest.version,
        newest.position,
    )
    assert "the log now has no event there" in located.message


async def test_the_command_exits_non_zero_naming_the_event(
    history: Sealed, pool: asyncpg.Pool, tmp_path: Path, database_url: str
) -> None:
    earlier = tmp_path / "earlier.ndjson"
    earlier.write_bytes(await exported(pool, history.count))
    heads = tmp_path / "heads.json"
    heads.write_text("[" + ",".join(head_json(h) for h in history.heads) + "]")
    pinned = tmp_path / "pinned.pem"
    pinned.write_text(public_pem(history.key.public_raw))
    victim = (await log(pool))[30]
    await rewrite(pool, victim)
    await pool.execute(RESEAL)
    await sealed(pool, history.key, history.count)

    args = ["--against", heads, "--public-key", pinned, "--earlier", earlier]
    done = tracker(database_url, "audit", "verify", *map(str, args))
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"stream {victim.stream_id} version {victim.version}" in done.stdout


# --- The standalone verifier, given only files the auditor kept --------------------------------


async def served_seals(pool: asyncpg.Pool, path: Path) -> Path:
    """The seals the server serves now, saved as GET /audit/seals gives them."""
    rows = await pool.fetch(f"SELECT {seals.SEAL_COLUMNS} FROM seals ORDER BY tree_size")
    text = "[" + ",".join(head_json(seals.Seal(*r)) for r in rows) + "]"
    await asyncio.to_thread(path.write_text, text)
    return path


async def test_the_standalone_verifier_names_the_event_a_resealed_log_changed(
    history: Sealed, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    auditor = Auditor(history, tmp_path)
    earlier = tmp_path / "earlier.ndjson"
    earlier.write_bytes(await exported(pool, history.count))
    victim = (await log(pool))[60]
    await rewrite(pool, victim)
    await pool.execute(RESEAL)
    await sealed(pool, history.key, history.count)
    now = tmp_path / "now.ndjson"
    now.write_bytes(await exported(pool, history.count))

    status, said = run(now, auditor.heads, auditor.key, "--earlier", earlier)
    assert status == 1, said
    named = f"stream {victim.stream_id} version {victim.version} (position {victim.position})"
    assert f"(leaf 60): the earlier export has {named} there" in said


async def test_the_standalone_verifier_names_the_newest_event_deleted(
    history: Sealed, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    auditor = Auditor(history, tmp_path)
    earlier = tmp_path / "earlier.ndjson"
    earlier.write_bytes(await exported(pool, history.count))
    newest = (await log(pool))[-1]
    await tamper(pool, ("DELETE FROM events WHERE position = $1", newest.position))
    await pool.execute(RESEAL)
    await sealed(pool, history.key, history.count - 1)
    now = tmp_path / "now.ndjson"
    now.write_bytes(await exported(pool, history.count - 1))

    status, said = run(now, auditor.heads, auditor.key, "--earlier", earlier)
    assert status == 1, said
    named = f"stream {newest.stream_id} version {newest.version} (position {newest.position})"
    assert f"the earlier export has {named} there, this export has no event" in said


async def test_the_standalone_verifier_catches_a_new_key_with_the_seals_deleted(
    history: Sealed, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    auditor = Auditor(history, tmp_path)
    await pool.execute(RESEAL)
    mallory = SigningKey.generate()
    await sealed(pool, mallory, history.count)
    served = await served_seals(pool, tmp_path / "seals-now.json")
    assert run(tmp_path / "x", auditor.heads, auditor.key)[0] == 2  # no export: cannot run

    status, said = await auditor.check(pool)
    assert status == 0, "the export and the saved heads alone still agree"
    now = tmp_path / "export.ndjson"
    status, said = run(now, auditor.heads, auditor.key, "--seals", served)
    assert status == 1, said
    assert f"names key {mallory.key_id}, not the given public key" in said
    for head in history.heads[:-1]:
        assert f"tree size {head.tree_size}" in said and "serves no seal" in said
