"""Trust from outside the database: checkpoints as C2SP signed notes, checked here from the
specifications alone, and key rotation vouched for by the previous key."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.audit.test_tamper import RESEAL, tracker
from tests.audit.test_verify import Sealed, kinds, sealed, sealed_history, text
from tests.clock import Clock
from tests.eventstore.helpers import CTX, to_stream
from tracker.audit import checkpoint, seals
from tracker.audit.keys import SigningKey, load
from tracker.audit.rotate import rotate_key, rotations
from tracker.audit.trust import rotation
from tracker.audit.verify import verify
from tracker.eventstore import EventStore
from tracker.eventstore.repository import Repository

ORIGIN = "tracker.example/audit-log"


@pytest.fixture
async def history(repository: Repository, pool: asyncpg.Pool) -> Sealed:
    return await sealed_history(repository, pool)


def spec_check(note: str, name: str, public_raw: bytes) -> tuple[int, bytes]:
    """c2sp.org/signed-note and c2sp.org/tlog-checkpoint, written from the texts: the size and
    root of a note signed by this Ed25519 key, or an AssertionError."""
    text, blank, signatures = note.partition("\n\n")
    assert blank and note.endswith("\n") and "\n\n" not in signatures
    origin, size, root = text.split("\n")
    assert origin and size.isdigit() and not size.startswith("0")
    key_id = hashlib.sha256(name.encode() + b"\x0a\x01" + public_raw).digest()[:4]
    lines = signatures.removesuffix("\n").split("\n")
    mine = [x for x in lines if x.startswith(f"\u2014 {name} ")]
    assert len(mine) == 1
    blob = base64.b64decode(mine[0].split(" ")[2], validate=True)
    assert blob[:4] == key_id and len(blob) == 4 + 64
    Ed25519PublicKey.from_public_bytes(public_raw).verify(blob[4:], (text + "\n").encode())
    return int(size), base64.b64decode(root, validate=True)


async def test_every_seal_is_published_as_a_checkpoint_standard_tools_verify(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    key = SigningKey.generate()
    heads = []
    for count in (6, 16):
        while count > (await pool.fetchval("SELECT count(*) FROM events")):
            await store.append(to_stream(n=2), context=CTX)
        for _ in range(500):  # the horizon may be held back a moment by another transaction
            await seals.seal(pool, key, origin=ORIGIN)
            head = await seals.latest(pool)
            if head is not None and head.tree_size == count:
                break
        heads.append(head)
    assert len(heads) == 2
    notes = await seals.checkpoints_since(pool, 0)
    assert [spec_check(n, ORIGIN, key.public_raw) for n in notes] == [
        (h.tree_size, h.root_hash) for h in heads if h is not None
    ]
    assert await seals.checkpoints_since(pool, heads[1].tree_size if heads[1] else 0) == notes[1:]
    # The project's own parser agrees, and refuses another key or an altered size.
    assert checkpoint.verified_by(notes[0], ORIGIN, key.public_raw) is not None
    assert checkpoint.verified_by(notes[0], ORIGIN, SigningKey.generate().public_raw) is None
    forged = notes[0].replace(f"\n{heads[0].tree_size if heads[0] else 0}\n", "\n999\n", 1)
    assert checkpoint.verified_by(forged, ORIGIN, key.public_raw) is None
    vkey = checkpoint.verifier_key(ORIGIN, key.public_raw)
    name, key_hash, encoded = vkey.split("+", 2)
    assert (name, base64.b64decode(encoded)) == (ORIGIN, b"\x01" + key.public_raw)
    assert bytes.fromhex(key_hash) == checkpoint.key_hash(ORIGIN, key.public_raw)


def test_a_checkpoint_file_splits_into_its_notes_and_bad_notes_are_refused() -> None:
    key = SigningKey.generate()
    notes = [
        checkpoint.sign(checkpoint.Checkpoint(ORIGIN, size, bytes([size]) * 32), key)
        for size in (1, 7, 12)
    ]
    assert checkpoint.split_notes("\n".join(notes)) == notes
    for bad in ("no signature\n", notes[0].replace("\u2014", "-"), notes[1].replace("\n7\n", "\n")):
        with pytest.raises(checkpoint.NoteError):
            checkpoint.parse(bad)
    with pytest.raises(checkpoint.NoteError):
        checkpoint.check_origin("has space")


async def test_the_checkpoints_command_prints_notes_since_a_size(
    history: Sealed, pool: asyncpg.Pool, database_url: str
) -> None:
    smallest = history.heads[1].tree_size
    done = tracker(database_url, "audit", "checkpoints", "--since", str(smallest))
    assert done.returncode == 0, done.stderr
    notes = checkpoint.split_notes(done.stdout)
    sizes = [spec_check(n, seals.DEFAULT_ORIGIN, history.key.public_raw)[0] for n in notes]
    assert sizes[0] == smallest and sizes[-1] == history.count


async def test_a_rotated_key_is_trusted_through_the_statement_the_old_key_signed(
    store: EventStore, pool: asyncpg.Pool, tmp_path: Path, clock: Clock
) -> None:
    await store.append(to_stream(n=4), context=CTX)
    first = SigningKey.generate()
    key_file = tmp_path / "signing-key.pem"
    key_file.write_bytes(first.private_pem())
    key_file.chmod(0o600)
    await sealed(pool, first, 4)
    old, new, _ = await rotate_key(pool, tmp_path, key_file, clock())
    assert (old.key_id, load(key_file).key_id) == (first.key_id, new.key_id)
    assert (tmp_path / f"signing-key.pem.{first.key_id}.retired").exists()
    await store.append(to_stream(n=3), context=CTX)
    await sealed(pool, new, 7)

    report = await verify(pool, (), first.public_raw)
    assert report.ok, text(report)
    # A statement signed by any other key introduces nothing.
    mallory = SigningKey.generate()
    forged = rotation(mallory, SigningKey.generate().public_raw, clock() + timedelta(1))
    await pool.execute(
        "INSERT INTO seal_key_rotations VALUES ($1, $2, $3, $4, $5)",
        forged.key_id,
        forged.public_key,
        first.key_id,
        forged.rotated_at,
        forged.signature,
    )
    assert len(await rotations(pool)) == 2
    refused = await verify(pool, (), first.public_raw)
    assert refused.ok and any(forged.key_id in n for n in refused.notes)
    # Pinning only the new key does not trust seals signed before it.
    assert "key" in kinds(await verify(pool, (), new.public_raw))


async def test_kept_checkpoints_catch_a_resealed_log_and_a_foreign_key(
    history: Sealed, pool: asyncpg.Pool, tmp_path: Path, database_url: str
) -> None:
    kept = tmp_path / "checkpoints.txt"
    printed = tracker(database_url, "audit", "checkpoints")
    kept.write_text(printed.stdout)
    pinned = tmp_path / "pinned.pem"
    pinned.write_text(history.key.public_pem)
    untouched = tracker(
        database_url, "audit", "verify", "--against", str(kept), "--public-key", str(pinned)
    )
    assert untouched.returncode == 0, untouched.stdout
    assert f"{len(checkpoint.split_notes(printed.stdout))} saved heads" in untouched.stdout

    # The same log, resealed by a key the auditor never pinned: every checkpoint it signs is
    # refused, and the kept checkpoints' seals are gone.
    await pool.execute(RESEAL)
    mallory = SigningKey.generate()
    await sealed(pool, mallory, history.count)
    forged = tmp_path / "forged.txt"
    forged.write_text("\n".join(await seals.checkpoints_since(pool, 0)))
    report = tracker(
        database_url, "audit", "verify", "--against", str(forged), "--public-key", str(pinned)
    )
    assert report.returncode == 1
    assert f"saved checkpoint of size {history.count} is signed by no pinned" in report.stdout
    again = tracker(
        database_url, "audit", "verify", "--against", str(kept), "--public-key", str(pinned)
    )
    assert again.returncode == 1 and "seals were deleted or replaced" in again.stdout
