"""Seals: heads over the log, proofs from stored subtrees, signatures, and the sealer's rules."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from pathlib import Path

import asyncpg
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from tests.eventstore.helpers import CTX, read_until, to_stream
from tracker.audit import merkle, seals, tree
from tracker.audit.keys import SigningKey, SigningKeyError, key_id_of, signing_key
from tracker.audit.sealer import head_json, running_sealer, seal_now
from tracker.audit.seals import Seal
from tracker.eventstore import EventStore


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


async def append(store: EventStore, streams: int, per_stream: int = 1) -> None:
    """Some events, several per transaction and across streams, so global order is tested."""
    for _ in range(streams):
        await store.append(to_stream(n=per_stream), to_stream(n=1), context=CTX)


async def leaves_from_events(store: EventStore, count: int) -> list[bytes]:
    """Leaf hashes recomputed from the raw events, independently of the sealer."""
    events = await read_until(store, count)
    assert len(events) == count
    return [
        merkle.leaf_hash(
            merkle.leaf_bytes(e.position, e.stream_id, e.version, e.recorded_at, e.hash)
        )
        for e in events
    ]


async def sealed(pool: asyncpg.Pool, key: SigningKey, size: int, batch: int = seals.BATCH) -> Seal:
    """Seal until the head covers size events: a transaction anywhere on the test server may
    hold the horizon back for a moment (the sealer waits there; it never skips)."""
    for _ in range(500):
        await seals.seal(pool, key, batch=batch)
        head = await seals.latest(pool)
        if head is not None and head.tree_size >= size:
            assert head.tree_size == size
            return head
        await asyncio.sleep(0.01)
    raise AssertionError(f"never sealed {size} events")


def block_until_sealed(url: str, size: int, seconds: float = 10.0) -> None:
    """Block the calling thread, and so its event loop, until a seal covers size events."""
    deadline = time.monotonic() + seconds
    with psycopg.connect(url, autocommit=True) as conn:
        while conn.execute("SELECT max(tree_size) FROM seals").fetchone() != (size,):
            assert time.monotonic() < deadline, f"no seal of {size} events in {seconds} s"
            time.sleep(0.01)


async def tamper(pool: asyncpg.Pool, table: str, trigger: str, sql: str) -> None:
    """An insider with database access: switch the guard off, change a row, switch it on."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        await conn.execute(sql)
        await conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


async def test_a_seal_covers_every_event_and_matches_leaves_recomputed_from_them(
    store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    await append(store, 10, per_stream=3)
    head = await sealed(pool, key, 40)
    assert head.root_hash == merkle.root(await leaves_from_events(store, 40))
    assert await seals.latest(pool) == head


async def test_sealing_again_without_new_events_does_nothing(
    store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    assert await seals.seal(pool, key) is None  # an empty log has no head
    await append(store, 3)
    first = await sealed(pool, key, 6)
    # Seals on the way to the first are possible: the horizon may have held events back.
    before = await seals.seals_before(pool, None, 10)
    assert first in before
    assert await seals.seal(pool, key) is None
    assert await seals.seals_before(pool, None, 10) == before


async def test_a_later_head_is_consistent_with_an_earlier_one(
    store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    await append(store, 5)
    first = await sealed(pool, key, 10)
    await append(store, 8, per_stream=2)
    second = await sealed(pool, key, 34)
    assert second.root_hash == merkle.root(await leaves_from_events(store, 34))
    proof = await tree.consistency(pool, first.tree_size, second.tree_size)
    assert merkle.verify_consistency(10, 34, first.root_hash, second.root_hash, proof)
    assert not merkle.verify_consistency(10, 34, merkle.EMPTY, second.root_hash, proof)


async def test_every_tree_size_has_valid_proofs_from_stored_subtrees(
    store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    # One event per seal, so that stored nodes are built across many seal boundaries.
    for size in range(1, 20):
        await store.append(to_stream(), context=CTX)
        await sealed(pool, key, size)
    await append(store, 7)
    await sealed(pool, key, 33)
    leaves = await leaves_from_events(store, 33)
    positions = [e.position for e in await read_until(store, 33)]
    for size in range(1, 34):
        head = merkle.root(leaves[:size])
        for index in range(size):
            found = await tree.inclusion(pool, positions[index], size)
            assert found.leaf_index == index and found.leaf_hash == leaves[index]
            assert merkle.verify_inclusion(leaves[index], index, size, found.path, head)
        for old in range(1, size + 1):
            proof = await tree.consistency(pool, old, size)
            assert merkle.verify_consistency(old, size, merkle.root(leaves[:old]), head, proof)


async def test_any_range_of_leaves_hashes_as_the_rfc_defines(
    store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    await append(store, 15, per_stream=2)  # 45 leaves
    await sealed(pool, key, 45)
    leaves = await leaves_from_events(store, 45)
    rng = random.Random(5)
    for _ in range(200):
        start = rng.randrange(0, 46)
        end = rng.randrange(start, 46)
        assert await tree.subtree(pool, start, end) == merkle.root(leaves[start:end])
    with pytest.raises(tree.OutsideTree):
        await tree.subtree(pool, 0, 46)


async def test_a_backlog_is_sealed_in_batches_each_with_a_correct_head(
    store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    await append(store, 15)
    await sealed(pool, key, 30, batch=7)
    leaves = await leaves_from_events(store, 30)
    heads = await seals.seals_before(pool, None, 100)
    # Batches of at most 7 leaves (fewer where the horizon ended one early), one seal each.
    sizes = [h.tree_size for h in reversed(heads)]
    assert sizes[-1] == 30 and len(sizes) >= 5
    assert all(0 < b - a <= 7 for a, b in zip([0, *sizes[:-1]], sizes, strict=True))
    assert all(h.root_hash == merkle.root(leaves[: h.tree_size]) for h in heads)


async def test_seals_are_signed_and_a_forged_seal_row_fails_verification(
    store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    await append(store, 4)
    head = await sealed(pool, key, 8)
    assert head.key_id == key.key_id
    assert seals.verify_signature(head, key.public_raw)
    assert await seals.public_key(pool, key.key_id) == key.public_raw
    forged = merkle.node_hash(head.root_hash, head.root_hash)
    await tamper(
        pool, "seals", "seals_append_only", f"UPDATE seals SET root_hash = '\\x{forged.hex()}'"
    )
    stored = await seals.latest(pool)
    assert stored is not None and stored.root_hash == forged
    assert not seals.verify_signature(stored, key.public_raw)
    assert not seals.verify_signature(head, SigningKey.generate().public_raw)


async def test_the_signed_message_is_what_the_documented_recipe_rebuilds(
    store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    await append(store, 2)
    head = await sealed(pool, key, 4)
    kept = json.loads(head_json(head))  # a head as an auditor keeps it, from plain JSON
    recipe = (
        b"commitment-tracker tree head v1\n"
        + json.dumps(
            [kept["tree_size"], kept["root_hash"], kept["sealed_at"], kept["key_id"]],
            separators=(",", ":"),
        ).encode()
    )
    assert recipe == head.message
    key.public.verify(bytes.fromhex(kept["signature"]), recipe)


async def test_seal_rows_leaves_and_nodes_are_append_only(
    store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    await append(store, 2)
    await sealed(pool, key, 4)
    for sql in (
        "UPDATE seals SET key_id = 'other'",
        "DELETE FROM seals",
        "UPDATE merkle_leaves SET leaf_hash = leaf_hash",
        "DELETE FROM merkle_nodes",
        "DELETE FROM seal_keys",
    ):
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await pool.execute(sql)


async def test_concurrent_sealers_never_write_a_leaf_twice(
    store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    for _ in range(5):
        await append(store, 10)
        results = await asyncio.gather(
            seals.seal(pool, key),
            seals.seal(pool, key),
            seals.seal(pool, key, wait=False),
        )
        assert len({r.tree_size for r in results if r is not None}) == len(
            [r for r in results if r is not None]
        )
    await sealed(pool, key, 100)
    leaves = await leaves_from_events(store, 100)
    rows = await pool.fetch("SELECT leaf_index, leaf_hash FROM merkle_leaves ORDER BY leaf_index")
    assert [r["leaf_index"] for r in rows] == list(range(100))
    assert [r["leaf_hash"] for r in rows] == leaves
    heads = await seals.seals_before(pool, None, 100)
    assert all(h.root_hash == merkle.root(leaves[: h.tree_size]) for h in heads)


async def test_events_above_the_horizon_wait_for_the_next_seal(
    store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    await append(store, 2)
    await sealed(pool, key, 4)
    # An open transaction holding an id keeps later events above the horizon, unsealed.
    async with pool.acquire() as blocker:
        holding = blocker.transaction()
        await holding.start()
        await blocker.fetchval("SELECT pg_current_xact_id()")
        await append(store, 3)
        assert await seals.seal(pool, key) is None
        await holding.rollback()
    later = await sealed(pool, key, 10)
    assert later.root_hash == merkle.root(await leaves_from_events(store, 10))


async def test_proofs_refuse_positions_and_sizes_the_sealed_tree_does_not_cover(
    store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    await append(store, 3)
    await sealed(pool, key, 6)
    await append(store, 1)
    unsealed = (await read_until(store, 8))[-1].position
    with pytest.raises(tree.OutsideTree):
        await tree.inclusion(pool, unsealed, 6)
    with pytest.raises(tree.OutsideTree):
        await tree.inclusion(pool, 1, 7)
    with pytest.raises(ValueError, match="outside a tree of 2"):
        await tree.inclusion(pool, (await read_until(store, 8))[4].position, 2)
    with pytest.raises(tree.OutsideTree):
        await tree.consistency(pool, 2, 7)
    with pytest.raises(ValueError):
        await tree.consistency(pool, 4, 3)
    with pytest.raises(ValueError):
        await tree.consistency(pool, 0, 3)


async def test_missing_tree_rows_are_reported_as_damage(
    store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    await append(store, 4)
    await sealed(pool, key, 8)
    await tamper(
        pool, "merkle_nodes", "merkle_nodes_append_only", "DELETE FROM merkle_nodes WHERE level = 2"
    )
    with pytest.raises(tree.TreeDamaged, match="level 2"):
        await tree.inclusion(pool, 1, 8)
    newest = "DELETE FROM events WHERE position = (SELECT max(position) FROM events)"
    await tamper(pool, "events", "events_append_only", newest)
    await append(store, 1)
    with pytest.raises(tree.TreeDamaged, match="gone from the log"):
        await seals.seal(pool, key)


async def test_the_sealer_seals_new_events_in_the_background(
    store: EventStore, pool: asyncpg.Pool, key: SigningKey, database_url: str
) -> None:
    async with running_sealer(database_url, key, every=0.02):
        await append(store, 3)
        for _ in range(200):
            head = await seals.latest(pool)
            if head is not None and head.tree_size == 6:
                break
            await asyncio.sleep(0.02)
    assert head is not None and head.tree_size == 6
    async with running_sealer(database_url, key, every=0):  # switched off
        await append(store, 1)
        assert not [t for t in threading.enumerate() if t.name == "sealer"]
    assert await seals.latest(pool) == head


async def test_sealing_now_returns_the_new_head_or_the_newest_one(
    store: EventStore, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    with pytest.raises(LookupError):
        await seal_now(pool, tmp_path, None)
    await append(store, 1)
    await read_until(store, 2)  # past the horizon, so one seal takes both
    first, new = await seal_now(pool, tmp_path, None)
    assert new and first.tree_size == 2
    again, new = await seal_now(pool, tmp_path, None)
    assert (again, new) == (first, False)


def test_a_key_is_generated_once_into_the_data_directory_readable_only_by_its_owner(
    tmp_path: Path,
) -> None:
    first = signing_key(tmp_path / "data")
    path = tmp_path / "data" / "signing-key.pem"
    assert path.stat().st_mode & 0o777 == 0o600
    assert signing_key(tmp_path / "data").public_raw == first.public_raw
    assert first.key_id == key_id_of(first.public_raw) and len(first.key_id) == 16
    assert first.public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_a_configured_key_file_is_used_and_a_bad_one_refused(tmp_path: Path) -> None:
    supplied = SigningKey.generate()
    path = tmp_path / "mine.pem"
    path.write_bytes(supplied.private_pem())
    assert signing_key(tmp_path / "data", path).key_id == supplied.key_id
    assert not (tmp_path / "data").exists()
    with pytest.raises(SigningKeyError, match="does not exist"):
        signing_key(tmp_path, tmp_path / "missing.pem")
    other = generate_private_key(SECP256R1())
    path.write_bytes(other.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    with pytest.raises(SigningKeyError, match="not an Ed25519 key"):
        signing_key(tmp_path, path)
    path.write_text("not a key")
    with pytest.raises(SigningKeyError, match="not an unencrypted PEM"):
        signing_key(tmp_path, path)


async def test_the_sealer_keeps_sealing_while_the_servers_event_loop_is_busy(
    store: EventStore, pool: asyncpg.Pool, key: SigningKey, database_url: str
) -> None:
    """It seals on a thread of its own, so its hashing never holds up requests."""
    await append(store, 5)
    async with running_sealer(database_url, key, every=0.02):
        # This loop, blocked on purpose, cannot seal: the seal it waits for comes from the thread.
        block_until_sealed(database_url, 10)
    head, events = await seals.latest(pool), await pool.fetchval("SELECT count(*) FROM events")
    assert head is not None and head.tree_size == events == 10
