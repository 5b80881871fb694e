"""A restore refuses a database that is in use, and keeps an auditor's tree heads meaningful."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
import msgspec
import pytest

from tests.audit.test_export_import import exported
from tests.audit.test_tamper import served_seals, tracker
from tests.audit.test_verify import Sealed, sealed_history, text
from tracker.audit import seals
from tracker.audit.sealer import head_json
from tracker.audit.verify import verify
from tracker.audit.verify_heads import load_heads
from tracker.database import create_pool
from tracker.eventstore.repository import Repository


@pytest.fixture
async def history(repository: Repository, pool: asyncpg.Pool) -> Sealed:
    return await sealed_history(repository, pool)


async def test_import_refuses_while_a_server_is_connected_and_runs_once_it_is_gone(
    history: Sealed,
    pool: asyncpg.Pool,
    tmp_path: Path,
    new_database: object,
) -> None:
    export = tmp_path / "export.ndjson"
    export.write_bytes(await exported(pool, history.count))
    url = await new_database()  # type: ignore[operator]
    # A server's connection, as `tracker serve` would hold it.
    serving = await asyncpg.connect(url, server_settings={"application_name": "tracker serve"})
    try:
        refused = await asyncio.to_thread(tracker, url, "audit", "import", str(export))
    finally:
        await serving.close()
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "in use by 1 other session(s): tracker serve (pid" in refused.stderr

    for _ in range(200):  # the closed session leaves pg_stat_activity a moment later
        done = await asyncio.to_thread(tracker, url, "audit", "import", str(export))
        if "in use" not in done.stderr:
            break
    assert done.returncode == 0, done.stdout + done.stderr
    restored = await create_pool(url, size=2)
    try:
        assert await restored.fetchval("SELECT count(*) FROM events") == history.count
        # The heads saved before the restore still hash to the restored log.
        report = await verify(restored, history.heads, history.key.public_raw)
    finally:
        await restored.close()
    assert not [f for f in report.findings if "hash to" in f.message or f.kind == "change"]


async def test_an_import_with_the_seals_keeps_every_kept_head_and_checkpoint_verifying(
    history: Sealed, pool: asyncpg.Pool, tmp_path: Path, new_database: object
) -> None:
    export = tmp_path / "export.ndjson"
    export.write_bytes(await exported(pool, history.count))
    served = await served_seals(pool, tmp_path / "seals.json")
    kept = tmp_path / "checkpoints.txt"
    kept.write_text("\n".join(await seals.checkpoints_since(pool, 0)))
    pinned = tmp_path / "pinned.pem"
    pinned.write_text(history.key.public_pem)

    # Seals the export does not hash to are refused before anything is written.
    # A head signed with the right key over a root the export does not hash to.
    forged = json.loads(served.read_text())
    first = load_heads(served)[0]
    assert isinstance(first, seals.Seal)
    wrong = msgspec.structs.replace(first, root_hash=bytes(32))
    wrong = msgspec.structs.replace(wrong, signature=history.key.sign(wrong.message))
    bad = tmp_path / "forged.json"
    bad.write_text(json.dumps([json.loads(head_json(wrong)), *forged[1:]]))
    url = await new_database()  # type: ignore[operator]
    args = ["audit", "import", str(export), "--public-key", str(pinned)]
    refused = await asyncio.to_thread(tracker, url, *args, "--seals", str(bad))
    assert refused.returncode == 1
    assert f"does not hash to the seal of size {forged[0]['tree_size']}" in refused.stderr

    done = await asyncio.to_thread(tracker, url, *args, "--seals", str(served))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"restored {len(forged)} seals" in done.stdout
    restored = await create_pool(url, size=2)
    try:
        report = await verify(restored, history.heads, history.key.public_raw)
        against_checkpoints = await verify(restored, load_heads(kept), history.key.public_raw)
    finally:
        await restored.close()
    assert report.ok, text(report)
    assert against_checkpoints.ok, text(against_checkpoints)
    assert report.seals == len(forged)
