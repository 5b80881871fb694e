"""Tree heads as C2SP signed notes: c2sp.org/tlog-checkpoint bodies, c2sp.org/signed-note
Ed25519 signatures, so that standard transparency-log tools and witnesses read them."""

from __future__ import annotations

import base64
import binascii
import hashlib

import msgspec
from cryptography.exceptions import InvalidSignature

from tracker.audit.keys import SigningKey, public_key_of

DASH = "\u2014"  # em dash: every signature line starts with it
ED25519 = b"\x01"  # the signed-note signature type of Ed25519


class NoteError(ValueError):
    """Text that is not a well-formed signed checkpoint."""


class Checkpoint(msgspec.Struct, frozen=True):
    """A checkpoint body: the log's origin, a tree size and its RFC 9162 root hash."""

    origin: str
    tree_size: int
    root_hash: bytes

    @property
    def text(self) -> str:
        """The note text: origin, size, base64 root, each on its line (tlog-checkpoint)."""
        root = base64.b64encode(self.root_hash).decode()
        return f"{self.origin}\n{self.tree_size}\n{root}\n"


class Signature(msgspec.Struct, frozen=True):
    """One signature line: the key's name, its 4-byte key hash and the signature."""

    name: str
    key_hash: bytes
    signature: bytes


class SignedNote(msgspec.Struct, frozen=True):
    """A checkpoint and the signature lines under it."""

    checkpoint: Checkpoint
    signatures: list[Signature]


def key_hash(name: str, public_raw: bytes) -> bytes:
    """signed-note key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_raw).digest()[:4]


def verifier_key(name: str, public_raw: bytes) -> str:
    """The vkey string Go's note package and witnesses are configured with."""
    encoded = base64.b64encode(ED25519 + public_raw).decode()
    return f"{name}+{key_hash(name, public_raw).hex()}+{encoded}"


def check_origin(origin: str) -> str:
    """An origin usable as a key name: non-empty, printable, no spaces and no '+'."""
    if not origin or "+" in origin or any(c.isspace() or ord(c) < 0x20 for c in origin):
        raise NoteError(f"{origin!r} cannot name a log: it needs no spaces and no '+'")
    return origin


def sign(checkpoint: Checkpoint, key: SigningKey) -> str:
    """The signed note: the text, a blank line, one Ed25519 signature line named by origin."""
    name = check_origin(checkpoint.origin)
    signature = key.sign(checkpoint.text.encode())
    blob = base64.b64encode(key_hash(name, key.public_raw) + signature).decode()
    return f"{checkpoint.text}\n{DASH} {name} {blob}\n"


def parse(note: str) -> SignedNote:
    """A signed checkpoint's parts; NoteError when it is not one."""
    text, sep, lines = note.rpartition("\n\n")
    if not sep or not lines.endswith("\n"):
        raise NoteError("a signed note is text, a blank line and signature lines")
    body = text.split("\n")
    if len(body) < 3:
        raise NoteError("a checkpoint has an origin, a tree size and a root hash")
    try:
        size, root = int(body[1]), base64.b64decode(body[2], validate=True)
    except (ValueError, binascii.Error):
        raise NoteError("a checkpoint's second and third lines are a size and base64") from None
    if len(root) != 32 or str(size) != body[1]:
        raise NoteError("a checkpoint's size is decimal and its root 32 bytes")
    return SignedNote(Checkpoint(body[0], size, root), [_line(x) for x in lines.splitlines()])


def _line(line: str) -> Signature:
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != DASH or not parts[1]:
        raise NoteError(f"{line!r} is not a signature line")
    name, blob = parts[1], parts[2]
    try:
        raw = base64.b64decode(blob, validate=True)
    except binascii.Error:
        raise NoteError(f"{line!r} is not a signature line") from None
    return Signature(name, raw[:4], raw[4:])


def verified_by(note: str, name: str, public_raw: bytes) -> Checkpoint | None:
    """The checkpoint if a signature by this key (name and key hash) verifies; else None."""
    parsed = parse(note)
    wanted = key_hash(name, public_raw)
    message = parsed.checkpoint.text.encode()
    for s in parsed.signatures:
        if s.name == name and s.key_hash == wanted:
            try:
                public_key_of(public_raw).verify(s.signature, message)
            except InvalidSignature:
                return None
            return parsed.checkpoint
    return None


def split_notes(text: str) -> list[str]:
    """The notes in a file of checkpoints kept one after another."""
    notes: list[str] = []
    current: list[str] = []
    signing = False
    for line in text.splitlines(keepends=True):
        starts_signature = line.startswith(DASH + " ")
        if signing and not starts_signature and line.strip():
            notes.append("".join(current).rstrip("\n") + "\n")
            current, signing = [], False
        if line.strip() or current:
            current.append(line)
        signing = signing or starts_signature
    if current:
        notes.append("".join(current).rstrip("\n") + "\n")
    return [n for n in notes if n.strip()]
