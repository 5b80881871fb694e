"""Verify a Commitment Tracker export against tree heads you kept, without trusting the server.

    python standalone.py export.ndjson heads.json public-key.pem

export.ndjson is a full `tracker audit export` (or `GET /events/export`); heads.json is a list
of signed tree heads saved from `GET /audit/seals`; public-key.pem is the key served at
`GET /audit/public-key`, kept since. It recomputes every stream's hash chain, the Merkle tree
head (RFC 9162) at each saved head's size, and checks each head's Ed25519 signature.
Exit status: 0 when everything matches, 1 when something does not, 2 when it cannot run.

One module, Python 3.9 or later with the standard library and `cryptography` only: read it,
copy it, run it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import sys
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# timezone.utc rather than datetime.UTC, which older Pythons an auditor may have lack.
UTC = timezone.utc  # noqa: UP017
GENESIS = bytes(32)
HEAD_MESSAGE_PREFIX = b"commitment-tracker tree head v1\n"
MAX_PROBLEMS = 50


# --- Canonical JSON, byte for byte as the server writes it (msgspec, keys sorted) -----------


def encode(value: Any) -> bytes:
    """Compact JSON with sorted keys, as the server's msgspec encoder writes it."""
    return _json(value).encode()


def _json(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        # Only ", \ and control characters are escaped; everything else is raw UTF-8.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        return '"' + _datetime(value) + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_json(v) for v in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(_json(str(k)) + ":" + _json(v) for k, v in items) + "}"
    raise TypeError(f"cannot encode {type(value).__name__}")


def _float(x: float) -> str:
    """The shortest round-tripping digits, written as msgspec writes them: plain decimals for
    exponents -5 to 15, otherwise d.ddde±x with no '+' and no leading zeros in the exponent."""
    if not math.isfinite(x):
        return "null"
    text = repr(x)
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = int(exponent)
    if power == -5:  # Python switches to exponents below 1e-4, msgspec below 1e-5
        sign = "-" if mantissa.startswith("-") else ""
        return f"{sign}0.0000{mantissa.lstrip('-').replace('.', '')}"
    return f"{mantissa}e{power}"


def _datetime(moment: datetime) -> str:
    """RFC 3339 in UTC with 'Z'; microseconds only when there are any."""
    m = moment.astimezone(UTC)
    text = f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
    if m.microsecond:
        text += f".{m.microsecond:06d}"
    return text + "Z"


# --- The per-stream hash chain (tracker/eventstore/chain.py) -----------------------------


def _uuid(text: str | None) -> str | None:
    return None if text is None else str(uuid.UUID(text))


def _time(text: str) -> datetime:
    # Before Python 3.11 fromisoformat does not read a trailing Z.
    moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    if moment.tzinfo is None:
        raise ValueError(f"{text} carries no time zone")
    return moment.astimezone(UTC)


def canonical_bytes(e: dict[str, Any]) -> bytes:
    """The bytes that identify an event: its envelope head, a newline, its payload."""
    head = [
        _uuid(e["stream_id"]),
        e["stream_type"],
        e["version"],
        e["type"],
        e["type_version"],
        _time(e["occurred_at"]),
        e["actor"],
        e["on_behalf_of"],
        e["source"],
        _uuid(e["correlation_id"]),
        _uuid(e["causation_id"]),
    ]
    return encode(head) + b"\n" + encode(e["payload"])


def chain_hash(previous: bytes, canonical: bytes) -> bytes:
    """SHA-256 of the previous hash in the stream followed by this event's canonical bytes."""
    return hashlib.sha256(previous + canonical).digest()


# --- The Merkle tree over the log (RFC 9162 section 2.1; tracker/audit/merkle.py) -----------


def leaf_bytes(e: dict[str, Any]) -> bytes:
    """What a leaf commits to: position, stream, version, recorded time and chain hash."""
    chain = bytes.fromhex(e["hash"]).hex()
    return encode(
        [e["position"], _uuid(e["stream_id"]), e["version"], _time(e["recorded_at"]), chain]
    )


def leaf_hash(data: bytes) -> bytes:
    """MTH({d0}) = SHA-256(0x00 || d0)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class Tree:
    """Tree heads at any size while leaves stream past, keeping only the right edge."""

    def __init__(self) -> None:
        self.size = 0
        self.edge: list[tuple[int, bytes]] = []  # complete subtrees (level, hash), largest first

    def add(self, leaf: bytes) -> None:
        """Append a leaf hash."""
        level, head = 0, leaf
        while self.edge and self.edge[-1][0] == level:
            head = node_hash(self.edge.pop()[1], head)
            level += 1
        self.edge.append((level, head))
        self.size += 1

    def root(self) -> bytes:
        """The tree head of the leaves so far: subtrees combined right to left."""
        if not self.edge:
            return hashlib.sha256(b"").digest()
        head = self.edge[-1][1]
        for _, left in reversed(self.edge[:-1]):
            head = node_hash(left, head)
        return head


# --- Signed tree heads (tracker/audit/seals.py) ------------------------------------------


@dataclass(frozen=True)
class Head:
    """A signed tree head as saved from GET /audit/seals."""

    tree_size: int
    root_hash: bytes
    sealed_at: datetime
    key_id: str
    signature: bytes

    def message(self) -> bytes:
        """The bytes the signature covers."""
        when = self.sealed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        body = [self.tree_size, self.root_hash.hex(), when, self.key_id]
        return HEAD_MESSAGE_PREFIX + json.dumps(body, separators=(",", ":")).encode()


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


def load_heads(path: Path) -> list[Head]:
    """The saved heads, smallest tree first."""
    data = json.loads(path.read_text())
    if isinstance(data, dict):
        data = next((data[k] for k in ("seals", "heads", "items") if k in data), [data])
    heads = [
        Head(
            int(h["tree_size"]),
            _bytes(h["root_hash"], 32),
            _time(h["sealed_at"]),
            str(h["key_id"]),
            _bytes(h["signature"], 64),
        )
        for h in data
    ]
    return sorted(heads, key=lambda h: h.tree_size)


def load_public_key(path: Path) -> tuple[Ed25519PublicKey, str]:
    """The Ed25519 public key (PEM) and its key id: 16 hex digits of SHA-256 of its raw bytes."""
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key, hashlib.sha256(raw).hexdigest()[:16]


# --- Verification ---------------------------------------------------------------------------


@dataclass
class Result:
    """What was checked and what is wrong."""

    events: int = 0
    streams: int = 0
    heads: int = 0
    problems: list[str] = field(default_factory=list)
    more: int = 0
    matched: int = 0  # the largest head size that matched so far
    located: bool = False  # whether the first mismatching head was narrowed down already

    def problem(self, text: str) -> None:
        """Record a problem (the first MAX_PROBLEMS of each kind: chain, order, format, head)."""
        kind = text.split(":")[0]
        if sum(p.split(":")[0] == kind for p in self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self.more += 1

    @property
    def ok(self) -> bool:
        """Whether everything matched."""
        return not self.problems

    def ordered(self) -> list[str]:
        """Problems that name an event first: they say where the log was changed."""
        rank = {"chain": 0, "order": 1, "format": 2, "head": 3}
        return sorted(self.problems, key=lambda p: rank.get(p.split(":")[0], 4))


def _name(e: dict[str, Any]) -> str:
    return f"stream {e['stream_id']} version {e['version']} (position {e['position']})"


class Chains:
    """Each stream's chain, checked in log order with its last version and hash remembered."""

    def __init__(self, result: Result) -> None:
        self.result = result
        self.last: dict[str, tuple[int, bytes]] = {}
        # Events whose previous version has not come yet (a writer's transaction can commit a
        # stream's next event under a smaller transaction id); normally empty.
        self.waiting: dict[tuple[str, int], dict[str, Any]] = {}

    def add(self, e: dict[str, Any]) -> None:
        """Check one event against the previous one of its stream."""
        sid = _uuid(e["stream_id"]) or ""
        last = self.last.get(sid)
        expected = 1 if last is None else last[0] + 1
        if e["version"] < expected:
            self.result.problem(f"chain: {_name(e)}: version repeats; expected {expected}")
        elif e["version"] > expected:
            self.waiting[(sid, e["version"])] = e
        else:
            self._check(sid, e, GENESIS if last is None else last[1])
            while (parked := self.waiting.pop((sid, self.last[sid][0] + 1), None)) is not None:
                self._check(sid, parked, self.last[sid][1])

    def _check(self, sid: str, e: dict[str, Any], previous: bytes) -> None:
        stored = bytes.fromhex(e["hash"])
        if chain_hash(previous, canonical_bytes(e)) != stored:
            self.result.problem(f"chain: {_name(e)}: hash does not match")
        self.last[sid] = (e["version"], stored)

    def finish(self) -> None:
        """Report each stream whose next version never came."""
        first: dict[str, dict[str, Any]] = {}
        for (sid, version), e in self.waiting.items():
            if sid not in first or version < first[sid]["version"]:
                first[sid] = e
        for sid, e in sorted(first.items(), key=lambda kv: kv[1]["position"]):
            expected = self.last.get(sid, (0, b""))[0] + 1
            self.result.problem(f"chain: {_name(e)}: expected version {expected}")
        self.result.streams = len(self.last.keys() | first.keys())


def read_export(path: Path) -> Iterator[dict[str, Any]]:
    """The export's events, one JSON object per line."""
    with path.open("rb") as file:
        for line in file:
            if line.strip():
                yield json.loads(line)


def verify(
    events: Iterable[dict[str, Any]],
    heads: list[Head],
    public_key: Ed25519PublicKey,
    key_id: str,
) -> Result:
    """Check every chain, every saved head's root at its size, and every signature."""
    result = Result(heads=len(heads))
    chains, tree = Chains(result), Tree()
    pending = list(heads)
    previous = (-1, -1)
    for e in events:
        here = (e["transaction_id"], e["position"])
        if here <= previous:
            result.problem(f"order: {_name(e)} is out of global order in the export")
        previous = here
        try:
            chains.add(e)
            tree.add(leaf_hash(leaf_bytes(e)))
        except (KeyError, TypeError, ValueError) as error:
            result.problem(f"format: {_name(e) if 'position' in e else e}: {error!r}")
            tree.add(hashlib.sha256(b"unreadable").digest())
        while pending and pending[0].tree_size == tree.size:
            _check_head(pending.pop(0), tree.root(), public_key, key_id, result)
    result.events = tree.size
    chains.finish()
    for head in pending:
        _signature(head, public_key, key_id, result)
        result.problem(
            f"head: tree size {head.tree_size:,} (sealed {_datetime(head.sealed_at)}) covers "
            f"more events than the export holds ({tree.size:,}): events were removed"
        )
    return result


def _check_head(
    head: Head, root: bytes, public_key: Ed25519PublicKey, key_id: str, result: Result
) -> None:
    _signature(head, public_key, key_id, result)
    if head.root_hash == root:
        result.matched = head.tree_size
        return
    where = ""
    if not result.located:
        # Heads kept at many sizes narrow the search: the earlier one still matched.
        where = (
            f"; the first change is among events {result.matched + 1:,} to "
            f"{head.tree_size:,} of the export"
        )
        result.located = True
    result.problem(
        f"head: tree size {head.tree_size:,} (sealed {_datetime(head.sealed_at)}) has root "
        f"{head.root_hash.hex()} but the first {head.tree_size:,} events of the export "
        f"hash to {root.hex()}: the log was altered, reordered or replaced{where}"
    )


def _signature(head: Head, public_key: Ed25519PublicKey, key_id: str, result: Result) -> None:
    if head.key_id != key_id:
        result.problem(
            f"head: tree size {head.tree_size:,} names key {head.key_id}, not the given "
            f"public key {key_id}"
        )
    try:
        public_key.verify(head.signature, head.message())
    except InvalidSignature:
        result.problem(
            f"head: tree size {head.tree_size:,}: the signature does not verify with the "
            "given public key"
        )


def main(argv: list[str] | None = None) -> int:
    """Run from the command line; print a report."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    export, heads_file, key_file = (Path(a) for a in args)
    try:
        heads = load_heads(heads_file)
        public_key, key_id = load_public_key(key_file)
        result = verify(read_export(export), heads, public_key, key_id)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"cannot verify: {error}", file=sys.stderr)
        return 2
    print(
        f"checked {result.events:,} events in {result.streams:,} streams against "
        f"{result.heads:,} saved heads (key {key_id})"
    )
    if result.ok:
        print("OK: every hash chain, tree head and signature matches")
        return 0
    print(f"FAILED: {len(result.problems) + result.more} problem(s)")
    for text in result.ordered():
        print(f"  {text}")
    if result.more:
        print(f"  ... and {result.more} more")
    return 1


if __name__ == "__main__":
    sys.exit(main())
