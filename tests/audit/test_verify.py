"""Tampering, as an insider with database access could do it, and `verify` naming what is wrong.

Each test seals a generated history and saves the heads (as an auditor keeps them, outside
the database), tampers, and checks that verification against those heads detects it."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import msgspec
import pytest

from tests.eventstore.helpers import CTX, to_stream
from tests.projections.history import History
from tracker.audit import merkle, seals, tree
from tracker.audit.chains import Chains, canonical_of_row, leaf_of_row
from tracker.audit.findings import Report
from tracker.audit.keys import SigningKey
from tracker.audit.sealer import head_json
from tracker.audit.seals import Seal
from tracker.audit.verify import Roots, verify
from tracker.audit.verify_heads import load_heads
from tracker.eventstore import Context, EventStore, NewEvent, RecordedEvent, StreamAppend
from tracker.eventstore.chain import GENESIS, canonical_of, chain_hash
from tracker.eventstore.envelope import CopiedEvent
from tracker.eventstore.log import COLUMNS
from tracker.eventstore.repository import Repository
from tracker.eventstore.transfer import copy_log

GLOBAL = f"SELECT {COLUMNS} FROM events ORDER BY transaction_id, position"
INSERT = """
INSERT INTO events (position, transaction_id, stream_id, stream_type, version, type,
                    type_version, payload, occurred_at, recorded_at, actor, on_behalf_of,
                    source, correlation_id, causation_id, hash)
OVERRIDING SYSTEM VALUE
VALUES ($1, $2::text::xid8, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
"""


class Sealed(msgspec.Struct):
    """A sealed history and the heads an auditor saved from it."""

    heads: list[Seal]
    count: int
    key: SigningKey


async def count_events(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events"))


async def sealed(pool: asyncpg.Pool, key: SigningKey, size: int) -> Seal:
    """Seal until the head covers size events (another transaction on the test server may
    hold the horizon back for a moment; the sealer waits there, it never skips)."""
    for _ in range(500):
        await seals.seal(pool, key)
        head = await seals.latest(pool)
        if head is not None and head.tree_size >= size:
            return head
        await asyncio.sleep(0.01)
    raise AssertionError(f"never sealed {size} events")


async def sealed_history(repository: Repository, pool: asyncpg.Pool) -> Sealed:
    """About 400 events in many transactions, sealed three times; the heads are saved."""
    key = SigningKey.generate()
    generated = History(seed=9, leaders=12, forums=2)
    heads = []
    for _ in range(3):
        for _ in range(8):
            for _ in range(20):
                generated.step()
            await generated.flush(repository)
        heads.append(await sealed(pool, key, await count_events(pool)))
    return Sealed(heads, heads[-1].tree_size, key)


@pytest.fixture
async def history(repository: Repository, pool: asyncpg.Pool) -> Sealed:
    return await sealed_history(repository, pool)


async def log(pool: asyncpg.Pool) -> list[RecordedEvent]:
    return [RecordedEvent(*r) for r in await pool.fetch(GLOBAL)]


async def tamper(pool: asyncpg.Pool, *statements: tuple[Any, ...]) -> None:
    """What an insider with database access could do: switch the guard off, change rows, switch
    it back on."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        for sql, *args in statements:
            await conn.execute(sql, *args)
        await conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")


def kinds(report: Report) -> list[str]:
    return [f.kind for f in report.findings]


def text(report: Report) -> str:
    return "\n".join(report.lines())


def rechain(events: list[RecordedEvent]) -> list[RecordedEvent]:
    """One stream's events with versions 1..n and every hash recomputed: a consistent forgery."""
    previous, out = GENESIS, []
    for version, e in enumerate(events, start=1):
        e = msgspec.structs.replace(e, version=version)
        previous = chain_hash(previous, canonical_of(e))
        out.append(msgspec.structs.replace(e, hash=previous))
    return out


def reinsert(events: list[RecordedEvent]) -> list[tuple[Any, ...]]:
    """Statements that put events back, with their positions and transaction ids."""
    return [
        (
            INSERT,
            *(
                str(v) if name == "transaction_id" else v
                for name, v in zip(
                    RecordedEvent.__struct_fields__, msgspec.structs.astuple(e), strict=True
                )
            ),
        )
        for e in events
    ]


# --- An untouched log ----------------------------------------------------------------------


async def test_an_untouched_log_verifies_against_its_seals_and_the_saved_heads(
    history: Sealed, pool: asyncpg.Pool
) -> None:
    report = await verify(pool, history.heads, history.key.public_raw)
    assert report.ok, text(report)
    assert (report.events, report.leaves, report.heads) == (history.count, history.count, 3)
    # At least one seal per head (a horizon held back by another transaction splits one).
    assert report.seals >= 3
    assert "OK" in text(report)


async def test_saved_heads_load_from_json_in_hex_or_base64(
    history: Sealed, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    path = tmp_path / "heads.json"
    path.write_text("[" + ",".join(head_json(h) for h in history.heads) + "]")
    assert load_heads(path) == history.heads
    as_base64 = [
        json.loads(head_json(h))
        | {
            "root_hash": base64.b64encode(h.root_hash).decode(),
            "signature": base64.b64encode(h.signature).decode(),
        }
        for h in history.heads
    ]
    path.write_text(json.dumps({"seals": as_base64}))
    assert load_heads(path) == history.heads
    assert (await verify(pool, load_heads(path))).ok


async def test_a_stream_event_committed_under_a_smaller_transaction_id_verifies(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # A transaction that took its id before another appended version 1 appends version 2:
    # in the global order version 2 comes first, and that is not tampering.
    stream = to_stream(n=1)
    async with pool.acquire() as early, early.transaction():
        await early.fetchval("SELECT pg_current_xact_id()")
        await store.append(stream, context=CTX)
        await store.append(
            to_stream(stream.stream_id, expected=1, n=1), context=CTX, connection=early
        )
    versions = [e.version for e in await log(pool)]
    assert versions == [2, 1]
    report = await verify(pool)
    assert report.ok, text(report)


# --- Tampering with events -----------------------------------------------------------------


async def test_a_changed_payload_is_named(history: Sealed, pool: asyncpg.Pool) -> None:
    victim = (await log(pool))[history.count // 2]
    await tamper(
        pool,
        (
            'UPDATE events SET payload = payload || \'{"note": "forged"}\' WHERE position = $1',
            victim.position,
        ),
    )
    report = await verify(pool, history.heads)
    first = report.findings[0]
    assert (first.kind, first.stream_id, first.version, first.position) == (
        "chain",
        victim.stream_id,
        victim.version,
        victim.position,
    )
    assert "hash does not match" in first.message
    assert f"stream {victim.stream_id} version {victim.version}" in text(report)
    # The one-pass check names exactly what verifying that stream alone names.
    alone = await EventStore(pool).verify_stream(victim.stream_id)
    assert alone is not None
    assert (alone.stream_id, alone.version, alone.position) == (
        first.stream_id,
        first.version,
        first.position,
    )


async def test_deleting_the_newest_events_is_named(history: Sealed, pool: asyncpg.Pool) -> None:
    newest = (await log(pool))[-3:]
    await tamper(
        pool, ("DELETE FROM events WHERE position = ANY($1)", [e.position for e in newest])
    )
    report = await verify(pool, history.heads)
    assert "chain" not in kinds(report)  # what remains of each stream still chains
    size = history.count
    said = text(report)
    assert f"3 sealed leaves (from leaf {size - 3}, position {newest[0].position})" in said
    assert f"seal of size {size} covers {size} events but the log holds {size - 3}" in said
    assert f"saved head of size {size} covers" in said
    assert any(f.tree_size == size and f.kind == "head" for f in report.findings)


async def test_deleting_an_event_in_the_middle_is_named(
    history: Sealed, pool: asyncpg.Pool
) -> None:
    events = await log(pool)
    last = {e.stream_id: e.version for e in events}
    index, victim = next(
        (i, e)
        for i, e in enumerate(events)
        if i > history.count // 3 and e.version < last[e.stream_id]
    )
    await tamper(pool, ("DELETE FROM events WHERE position = $1", victim.position))
    report = await verify(pool, history.heads)
    chain = next(f for f in report.findings if f.kind == "chain")
    assert (chain.stream_id, chain.version) == (victim.stream_id, victim.version + 1)
    assert f"expected version {victim.version}" in chain.message
    leaf = next(f for f in report.findings if f.kind == "leaf")
    assert f"leaf {index}: the log has stream {events[index + 1].stream_id}" in leaf.message
    assert f"sealed for position {victim.position}" in leaf.message
    assert {f.tree_size for f in report.findings if f.kind == "head"} >= {history.count}


async def test_swapping_two_events_order_is_named(history: Sealed, pool: asyncpg.Pool) -> None:
    events = await log(pool)
    a, b = events[100], events[200]
    assert a.transaction_id != b.transaction_id
    # Swap their places in the global order: each takes the other's transaction and position
    # (positions are an identity column, so the rows are deleted and inserted again).
    swapped = [
        msgspec.structs.replace(a, position=b.position, transaction_id=b.transaction_id),
        msgspec.structs.replace(b, position=a.position, transaction_id=a.transaction_id),
    ]
    await tamper(
        pool,
        ("DELETE FROM events WHERE position = ANY($1)", [a.position, b.position]),
        *reinsert(swapped),
    )
    report = await verify(pool, history.heads)
    assert "chain" not in kinds(report)  # every chain is intact: only the order changed
    leaf = next(f for f in report.findings if f.kind == "leaf")
    assert (leaf.stream_id, leaf.version, leaf.position) == (b.stream_id, b.version, a.position)
    assert leaf.message.startswith("leaf 100:")
    sizes = {f.tree_size or 0 for f in report.findings if f.kind in ("seal", "head")}
    # Every head over the swapped events fails, and none below them.
    assert {h.tree_size for h in history.heads if h.tree_size > 100} <= sizes
    assert min(sizes) > 100


async def test_a_forged_event_with_a_recomputed_chain_is_named(
    history: Sealed, pool: asyncpg.Pool
) -> None:
    events = await log(pool)
    stream_id = next(e.stream_id for e in events[50:] if e.version == 3)
    stream = [e for e in events if e.stream_id == stream_id]
    original = stream[1]
    forged = msgspec.structs.replace(
        original,
        position=max(e.position for e in events) + 1,  # slots in right after version 1's
        actor="leader:mallory",
        payload={**original.payload, "note": "agreed by everyone"}
        if isinstance(original.payload, dict)
        else original.payload,
    )
    rewritten = rechain([stream[0], forged, *stream[1:]])
    await tamper(
        pool,
        ("DELETE FROM events WHERE stream_id = $1 AND version > 1", stream_id),
        *reinsert(rewritten[1:]),
    )
    assert await EventStore(pool).verify_stream(stream_id) is None  # the chain is consistent
    report = await verify(pool, history.heads)
    assert "chain" not in kinds(report)
    leaf = next(f for f in report.findings if f.kind == "leaf")
    assert leaf.stream_id == stream_id
    assert leaf.position == original.position  # the first event that moved is named
    assert {"seal", "head"} <= set(kinds(report))


async def test_a_consistent_forgery_of_the_whole_log_and_its_seals_is_caught_by_saved_heads(
    history: Sealed, pool: asyncpg.Pool
) -> None:
    events = await log(pool)
    victim = events[10]
    stream = [e for e in events if e.stream_id == victim.stream_id]
    changed = [
        msgspec.structs.replace(e, actor="leader:mallory") if e.position == victim.position else e
        for e in stream
    ]
    await tamper(
        pool,
        ("DELETE FROM events WHERE stream_id = $1", victim.stream_id),
        *reinsert(rechain(changed)),
    )
    # The insider also rebuilds every leaf, node and seal, signed with a key of their own.
    await pool.execute("TRUNCATE merkle_leaves, merkle_nodes, seals, seal_keys")
    mallory = SigningKey.generate()
    await sealed(pool, mallory, history.count)

    alone = await verify(pool)
    assert alone.ok, "the database agrees with itself: only heads kept elsewhere can tell"

    report = await verify(pool, history.heads)
    assert set(kinds(report)) == {"head", "change"}
    said = text(report)
    for head in history.heads:
        assert f"saved head of size {head.tree_size}" in said
    assert f"key {history.key.key_id}" in said and mallory.key_id not in said
    mismatched = {f.tree_size for f in report.findings if "hash to" in f.message}
    assert mismatched == {h.tree_size for h in history.heads}

    trusted = await verify(pool, history.heads, history.key.public_raw)
    assert not trusted.ok
    assert not any("signature" in f.message for f in trusted.findings)  # the heads are genuine


async def test_a_tampered_seal_is_named(history: Sealed, pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE seals DISABLE TRIGGER seals_append_only")
        await conn.execute(
            "UPDATE seals SET root_hash = $1 WHERE tree_size = $2",
            bytes(32),
            history.heads[0].tree_size,
        )
        await conn.execute(
            "UPDATE seals SET signature = $1 WHERE tree_size = $2",
            bytes(64),
            history.heads[1].tree_size,
        )
        await conn.execute("ALTER TABLE seals ENABLE TRIGGER seals_append_only")
    report = await verify(pool)
    said = text(report)
    first, second = history.heads[0].tree_size, history.heads[1].tree_size
    assert f"seal of size {first} (sealed" in said and "hash to" in said
    assert f"seal of size {second}: the signature does not verify" in said
    # The saved heads still match the log: the stored seals are named, and the saved head
    # whose seal was replaced.
    against = await verify(pool, history.heads)
    assert set(kinds(against)) == {"seal", "head"}
    replaced = [f.tree_size for f in against.findings if f.kind == "head"]
    assert replaced == [first]
    assert "holds another seal" in text(against)


# --- Adversarial tests of the verifier itself -------------------------------------------------


async def test_forged_inclusion_proofs_are_rejected(history: Sealed, pool: asyncpg.Pool) -> None:
    events = await log(pool)
    head = history.heads[-1]
    event = events[123]
    proof = await seals.inclusion(pool, event.position, head.tree_size)
    leaf = tree.leaf_of(event)
    assert proof.leaf_index == 123 and proof.leaf_hash == leaf
    assert merkle.verify_inclusion(leaf, 123, head.tree_size, proof.path, head.root_hash)

    flipped = [proof.path[0][:-1] + bytes([proof.path[0][-1] ^ 1]), *proof.path[1:]]
    other = tree.leaf_of(events[124])
    altered = tree.leaf_of(msgspec.structs.replace(event, hash=bytes(32)))
    for forged in [
        (leaf, 123, head.tree_size, flipped, head.root_hash),
        (leaf, 123, head.tree_size, proof.path[:-1], head.root_hash),
        (leaf, 123, head.tree_size, [*proof.path, proof.path[-1]], head.root_hash),
        (leaf, 124, head.tree_size, proof.path, head.root_hash),
        # A size and a root always come together from one signed head; a path of another
        # shape than that size's is refused.
        (leaf, 123, head.tree_size * 2, proof.path, head.root_hash),
        (leaf, 123, 124, proof.path, head.root_hash),
        (leaf, 123, head.tree_size, proof.path, history.heads[0].root_hash),
        (other, 123, head.tree_size, proof.path, head.root_hash),
        (altered, 123, head.tree_size, proof.path, head.root_hash),
        (merkle.leaf_hash(b""), 123, head.tree_size, proof.path, head.root_hash),
        (leaf, -1, head.tree_size, proof.path, head.root_hash),
        (leaf, head.tree_size, head.tree_size, proof.path, head.root_hash),
        (proof.path[0], 122, head.tree_size, proof.path[1:], head.root_hash),  # a node as leaf
    ]:
        assert not merkle.verify_inclusion(*forged), forged[1:3]


async def test_forged_consistency_proofs_are_rejected(history: Sealed, pool: asyncpg.Pool) -> None:
    old, new = history.heads[0], history.heads[-1]
    proof = await seals.consistency(pool, old.tree_size, new.tree_size)
    assert merkle.verify_consistency(
        old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof
    )
    flipped = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
    for forged in [
        (old.tree_size, new.tree_size, old.root_hash, new.root_hash, flipped),
        (old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof[:-1]),
        (old.tree_size, new.tree_size, old.root_hash, new.root_hash, [*proof, proof[0]]),
        (old.tree_size, new.tree_size, new.root_hash, old.root_hash, proof),
        (old.tree_size + 1, new.tree_size, old.root_hash, new.root_hash, proof),
        (old.tree_size, new.tree_size * 2, old.root_hash, new.root_hash, proof),
        (old.tree_size, new.tree_size, bytes(32), new.root_hash, proof),
        (old.tree_size, new.tree_size, old.root_hash, bytes(32), proof),
        (new.tree_size, old.tree_size, new.root_hash, old.root_hash, proof),
        (0, new.tree_size, merkle.EMPTY, new.root_hash, []),
        (new.tree_size, new.tree_size, new.root_hash, new.root_hash, proof),
    ]:
        assert not merkle.verify_consistency(*forged), forged[:2]


async def test_a_proof_from_a_forged_log_does_not_match_the_saved_heads(
    history: Sealed, pool: asyncpg.Pool
) -> None:
    events = await log(pool)
    victim = events[5]
    await tamper(pool, ("DELETE FROM events WHERE position = $1", victim.position))
    await pool.execute("TRUNCATE merkle_leaves, merkle_nodes, seals, seal_keys")
    forged_head = await sealed(pool, SigningKey.generate(), history.count - 1)
    saved = history.heads[-1]
    event = events[200]
    proof = await seals.inclusion(pool, event.position, forged_head.tree_size)
    leaf = tree.leaf_of(event)
    assert merkle.verify_inclusion(
        leaf, proof.leaf_index, forged_head.tree_size, proof.path, forged_head.root_hash
    )
    assert not merkle.verify_inclusion(leaf, 200, saved.tree_size, proof.path, saved.root_hash)
    old = history.heads[0]
    consistency = await seals.consistency(pool, old.tree_size, forged_head.tree_size)
    assert not merkle.verify_consistency(
        old.tree_size, forged_head.tree_size, old.root_hash, forged_head.root_hash, consistency
    )


# --- The one-pass machinery ----------------------------------------------------------------


def test_roots_computed_while_streaming_equal_rfc_9162_heads() -> None:
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(70)]
    roots = Roots()
    for n, leaf in enumerate(leaves, start=1):
        roots.extend([leaf])
        assert roots.root() == merkle.root(leaves[:n])


def test_a_stream_missing_a_version_is_named_at_its_successor() -> None:
    from datetime import UTC, datetime

    sid = UUID(int=1)
    at = datetime(2026, 11, 26, tzinfo=UTC)
    events = [
        RecordedEvent(
            i, i, sid, "thing", i, "t", 1, {"n": i}, at, at, "a", None, None, None, None, b""
        )
        for i in range(1, 5)
    ]
    events = rechain(events)
    chains = Chains()
    for index, e in enumerate([events[0], events[2], events[3]]):
        chains.add(e, index)
    (broken,) = chains.finish()
    assert (broken.version, broken.reason) == (3, "expected version 2")


async def test_rows_as_verification_reads_them_hash_exactly_as_the_store_does(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    context = Context(
        actor="integration:minutes",
        on_behalf_of="leader:7",
        source="minutes-tool",
        correlation_id=uuid4(),
        causation_id=uuid4(),
    )
    a = StreamAppend(
        stream_id=uuid4(),
        stream_type="meeting",
        expected_version=0,
        events=[
            NewEvent(type="recorded", payload={"ü": '\\"x"\n\t', "n": [1.5, 1e-5, None, 2**62]}),
            NewEvent(type="noted", payload="just text", type_version=3),
        ],
    )
    await store.append(a, context=context)
    await store.append(to_stream(n=3), context=CTX)
    chunks: list[bytes] = []

    async def keep(data: bytes) -> None:
        chunks.append(data)

    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL TimeZone = 'Pacific/Chatham'")  # overridden, as it must be
        await copy_log(conn, keep)
    lines = b"".join(chunks).replace(b"\\\\", b"\\").strip().split(b"\n")
    rows = [msgspec.json.decode(line, type=CopiedEvent) for line in lines]
    events = await log(pool)
    assert len(rows) == len(events) == 5
    for row, event in zip(rows, events, strict=True):
        assert canonical_of_row(row) == canonical_of(event)
        assert leaf_of_row(row) == tree.leaf_of(event)
        assert row.hash == event.hash
