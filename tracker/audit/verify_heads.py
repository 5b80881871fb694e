"""The tree heads a verification checks: stored seals, and heads an auditor saved outside the
database, each against the root recomputed from the log."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tracker.audit import checkpoint
from tracker.audit.findings import Finding, Report
from tracker.audit.keys import key_id_of
from tracker.audit.seals import Seal, verify_signature
from tracker.audit.trust import Trust


class Noted(msgspec.Struct, frozen=True):
    """A checkpoint an auditor kept: a signed note (c2sp.org/tlog-checkpoint)."""

    tree_size: int
    root_hash: bytes
    note: str


Saved = Seal | Noted


def load_heads(path: Path) -> list[Saved]:
    """Tree heads an auditor saved: a JSON list of {tree_size, root_hash, sealed_at, key_id,
    signature}, hashes in hex (as `GET /audit/seals` serves them) or base64; or signed
    checkpoints one after another (as `tracker audit checkpoints` prints them)."""
    raw = path.read_bytes()
    if raw.lstrip()[:1] not in (b"[", b"{"):
        notes = checkpoint.split_notes(raw.decode())
        parsed = [checkpoint.parse(n).checkpoint for n in notes]
        return [Noted(c.tree_size, c.root_hash, n) for c, n in zip(parsed, notes, strict=True)]
    data = msgspec.json.decode(raw)
    if isinstance(data, dict):  # a saved page of GET /audit/seals, or a single head
        data = next((data[k] for k in ("seals", "heads", "items") if k in data), [data])
    heads: list[Saved] = [
        Seal(
            int(h["tree_size"]),
            _bytes(h["root_hash"], 32),
            msgspec.convert(h["sealed_at"], datetime),
            str(h["key_id"]),
            _bytes(h["signature"], 64),
        )
        for h in data
    ]
    return heads


def _bytes(text: str, size: int) -> bytes:
    if len(text) == 2 * size:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError(f"{text!r} is neither hex nor base64") from None


class Heads:
    """The heads to check, by tree size: stored seals and the auditor's saved heads; with a
    trust (pinned keys and the rotations they vouch for), every signature is checked with the
    trusted keys alone and a seal under any other key is a finding."""

    def __init__(
        self,
        seals: Sequence[Seal],
        saved: Sequence[Saved],
        keys: dict[str, bytes],
        trust: Trust | None,
        checkpoints: dict[int, str] | None = None,
    ) -> None:
        self.stored = {s.tree_size: s for s in seals}
        self.saved = sorted(saved, key=lambda h: h.tree_size)
        self.keys = keys
        self.trust = trust
        self.checkpoints = checkpoints or {}
        self.sizes = sorted({*self.stored, *(h.tree_size for h in self.saved)})
        self._saved_at: dict[int, list[Saved]] = {}
        for h in self.saved:
            self._saved_at.setdefault(h.tree_size, []).append(h)
        self.mismatched: list[Saved] = []  # saved heads whose root the log does not reproduce
        self.matched = 0  # the largest saved head that the log reproduces

    def check(self, size: int, root: bytes, report: Report) -> None:
        """Compare every head of this size with the root recomputed from the log."""
        stored = self.stored.get(size)
        if stored is not None:
            self._check_stored(stored, root, report)
        for head in self._saved_at.get(size, []):
            self._check_saved(head, root, report)

    def _public(self, key_id: str, what: str, size: int, report: Report) -> bytes | None:
        """The key to check a signature with: a trusted one when keys are pinned."""
        if self.trust is None:
            return self.keys.get(key_id)
        if not self.trust.knows(key_id):
            report.add(
                Finding(
                    kind="key",
                    message=f"{what} of size {size} is signed by key {key_id}, which is not "
                    "pinned and which no rotation statement signed by a trusted key introduces",
                    tree_size=size,
                )
            )
        return self.trust.keys.get(key_id)

    def _check_stored(self, seal: Seal, root: bytes, report: Report) -> None:
        if seal.root_hash != root:
            report.add(_head_finding("seal", seal, root))
        public = self._public(seal.key_id, "seal", seal.tree_size, report)
        if public is None:
            if self.trust is None:
                report.add(
                    Finding(
                        kind="seal",
                        message=f"seal of size {seal.tree_size}: key {seal.key_id} is not in "
                        "seal_keys",
                        tree_size=seal.tree_size,
                    )
                )
        elif key_id_of(public) != seal.key_id or not verify_signature(seal, public):
            report.add(
                Finding(
                    kind="seal",
                    message=f"seal of size {seal.tree_size}: the signature does not verify "
                    f"with key {seal.key_id}",
                    tree_size=seal.tree_size,
                )
            )
        else:
            self._check_checkpoint(seal, public, report)

    def _check_checkpoint(self, seal: Seal, public: bytes, report: Report) -> None:
        note = self.checkpoints.get(seal.tree_size)
        if note is None:
            return
        try:
            parsed = checkpoint.parse(note)
            signed = checkpoint.verified_by(note, parsed.checkpoint.origin, public)
        except checkpoint.NoteError:
            signed = None
        if signed is None or (signed.tree_size, signed.root_hash) != (
            seal.tree_size,
            seal.root_hash,
        ):
            report.add(
                Finding(
                    kind="seal",
                    message=f"seal of size {seal.tree_size}: its checkpoint does not state "
                    f"its size and root under a signature by key {seal.key_id}",
                    tree_size=seal.tree_size,
                )
            )

    def _check_saved(self, head: Saved, root: bytes, report: Report) -> None:
        if head.root_hash != root:
            report.add(_head_finding("head", head, root))
            self.mismatched.append(head)
        else:
            self.matched = max(self.matched, head.tree_size)
        if isinstance(head, Noted):
            self._check_noted(head, report)
            return
        public = self._public(head.key_id, "saved head", head.tree_size, report)
        if public is None:
            note = (
                f"the signatures of saved heads by key {head.key_id} were not checked: this "
                "database does not know that key (pass the public key you kept with them)"
            )
            if self.trust is None and note not in report.notes:
                report.notes.append(note)
        elif not verify_signature(head, public):
            whose = "the trusted keys" if self.trust is not None else "seal_keys"
            report.add(
                Finding(
                    kind="head",
                    message=f"saved head of size {head.tree_size}: the signature does not "
                    f"verify with {whose} (key {head.key_id})",
                    tree_size=head.tree_size,
                )
            )

    def _check_noted(self, head: Noted, report: Report) -> None:
        """A kept checkpoint must be signed by a trusted key (or, unpinned, a stored one)."""
        keys = self.trust.keys if self.trust is not None else self.keys
        try:
            origin = checkpoint.parse(head.note).checkpoint.origin
        except checkpoint.NoteError:
            origin = ""
        if not any(checkpoint.verified_by(head.note, origin, raw) for raw in keys.values()):
            whose = "no pinned or introduced key" if self.trust is not None else "no known key"
            report.add(
                Finding(
                    kind="key",
                    message=f"saved checkpoint of size {head.tree_size} is signed by {whose}",
                    tree_size=head.tree_size,
                )
            )

    def missing_seals(self, report: Report) -> None:
        """Saved heads the database no longer holds a seal for: seals were deleted."""
        for head in self.saved:
            stored = self.stored.get(head.tree_size)
            if stored is None or stored.root_hash != head.root_hash:
                gone = "holds no seal" if stored is None else "holds another seal"
                report.add(
                    Finding(
                        kind="head",
                        message=f"saved head of size {head.tree_size} {_about(head)}: the "
                        f"database {gone} of that size: seals were deleted or replaced",
                        tree_size=head.tree_size,
                    )
                )

    def beyond(self, count: int, report: Report) -> None:
        """Heads larger than the log: events they covered are gone."""
        for size in self.sizes:
            if size <= count:
                continue
            found: list[tuple[str, Saved]] = (
                [("seal", self.stored[size])] if size in self.stored else []
            )
            found += [("head", h) for h in self._saved_at.get(size, [])]
            for kind, head in found:
                if kind == "head":
                    self.mismatched.append(head)
                report.add(
                    Finding(
                        kind=kind,
                        message=f"{_what(kind)} of size {size} covers {size:,} events but the "
                        f"log holds {count:,}: events were removed (root "
                        f"{head.root_hash.hex()[:16]}…)",
                        tree_size=size,
                    )
                )


def _what(kind: str) -> str:
    return "seal" if kind == "seal" else "saved head"


def _about(head: Saved) -> str:
    if isinstance(head, Noted):
        return "(a checkpoint)"
    return f"(sealed {head.sealed_at:%Y-%m-%d %H:%M:%S}, key {head.key_id})"


def _head_finding(kind: str, head: Saved, root: bytes) -> Finding:
    return Finding(
        kind=kind,
        message=f"{_what(kind)} of size {head.tree_size} {_about(head)} has root "
        f"{head.root_hash.hex()[:16]}… but the first {head.tree_size:,} events of the log "
        f"hash to {root.hex()[:16]}…",
        tree_size=head.tree_size,
    )


def load_public_key(path: Path) -> bytes:
    """The raw bytes of an Ed25519 public key kept as PEM (as `GET /audit/public-key` serves)."""
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
