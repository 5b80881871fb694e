"""Which keys may sign seals: keys the auditor pinned, and keys that a trusted key introduced
by a signed rotation statement. Nothing the database says about keys is trusted on its own."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tracker.audit.keys import SigningKey, key_id_of, public_key_of
from tracker.audit.seals import timestamp

ROTATION_PREFIX = b"commitment-tracker key rotation v1\n"
PEM_BLOCK = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


class Rotation(msgspec.Struct, frozen=True):
    """The previous key's signed word that the key with this id and public key succeeds it."""

    key_id: str
    public_key: bytes
    previous_key_id: str
    rotated_at: datetime
    signature: bytes

    @property
    def message(self) -> bytes:
        """What the previous key signed."""
        return rotation_message(self.previous_key_id, self.public_key, self.rotated_at)


def rotation_message(previous_key_id: str, public_raw: bytes, rotated_at: datetime) -> bytes:
    """The bytes a rotation statement's signature covers; a verifier rebuilds them so."""
    body = [previous_key_id, key_id_of(public_raw), public_raw.hex(), timestamp(rotated_at)]
    return ROTATION_PREFIX + json.dumps(body, separators=(",", ":")).encode()


def rotation(previous: SigningKey, new_public: bytes, rotated_at: datetime) -> Rotation:
    """A rotation statement signed by the previous key."""
    message = rotation_message(previous.key_id, new_public, rotated_at)
    return Rotation(
        key_id_of(new_public), new_public, previous.key_id, rotated_at, previous.sign(message)
    )


def load_pinned(path: Path) -> list[bytes]:
    """Every Ed25519 public key in a PEM file: one pinned key, or a key history kept since."""
    blocks = PEM_BLOCK.findall(path.read_bytes())
    if not blocks:
        raise ValueError(f"{path} holds no PEM public key")
    keys = []
    for block in blocks:
        key = serialization.load_pem_public_key(block)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"{path} holds a key that is not Ed25519")
        keys.append(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    return keys


class Trust:
    """The keys trusted to sign seals, by key id, and how each came to be trusted."""

    def __init__(self, pinned: Iterable[bytes]) -> None:
        self.keys = {key_id_of(raw): raw for raw in pinned}
        self.pinned = set(self.keys)
        self.introduced: dict[str, str] = {}  # key id -> the key id that introduced it

    def follow(self, rotations: Iterable[Rotation]) -> list[Rotation]:
        """Trust every key a trusted key introduced, transitively; the statements refused."""
        pending = sorted(rotations, key=lambda r: r.rotated_at)
        progress = True
        while progress:
            progress = False
            for r in list(pending):
                previous = self.keys.get(r.previous_key_id)
                if previous is not None and _introduces(r, previous):
                    self.keys.setdefault(r.key_id, r.public_key)
                    self.introduced.setdefault(r.key_id, r.previous_key_id)
                    pending.remove(r)
                    progress = True
        return pending

    def knows(self, key_id: str) -> bool:
        """Whether seals under this key id may be trusted."""
        return key_id in self.keys


def _introduces(r: Rotation, previous: bytes) -> bool:
    if key_id_of(r.public_key) != r.key_id:
        return False
    try:
        public_key_of(previous).verify(r.signature, r.message)
    except InvalidSignature:
        return False
    return True
