"""Verify a Commitment Tracker export against tree heads you kept, without trusting the server.

    python standalone.py export.ndjson heads.json public-key.pem [--earlier earlier.ndjson]
                         [--seals seals-now.json]

export.ndjson is a full `tracker audit export` (or `GET /events/export`); heads.json is a list
of signed tree heads saved from `GET /audit/seals`; public-key.pem is the key served at
`GET /audit/public-key`, pinned since (several PEM keys: a key history, each one trusted).
It recomputes every stream's hash chain, the Merkle tree head (RFC 9162) at each saved head's
size, and checks each head's Ed25519 signature against the pinned keys only.
--earlier: an export kept earlier; when a saved head does not match, the first event that
differs is named by comparing subtree roots with that copy (if it reproduces the head).
--seals: the seals the server serves now; each must be signed by a pinned key and match the
export, and every saved head must still be among them.
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
    label: str = "tree size"  # how problems name it: a saved head, or a seal served now

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


def load_heads(path: Path, label: str = "tree size") -> list[Head]:
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
            label,
        )
        for h in data
    ]
    return sorted(heads, key=lambda h: h.tree_size)


PEM_END = b"-----END PUBLIC KEY-----"


def load_public_keys(path: Path) -> dict[str, Ed25519PublicKey]:
    """The pinned Ed25519 public keys (one or more PEM blocks), by key id: the first 16 hex
    digits of SHA-256 of each key's raw bytes."""
    keys = {}
    for block in path.read_bytes().split(PEM_END)[:-1]:
        key = serialization.load_pem_public_key(block.strip() + b"\n" + PEM_END + b"\n")
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"{path} holds a key that is not Ed25519")
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        keys[hashlib.sha256(raw).hexdigest()[:16]] = key
    if not keys:
        raise ValueError(f"{path} holds no PEM public key")
    return keys


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
    mismatched: Head | None = None  # the smallest saved head the export does not reproduce

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
        rank = {"chain": 0, "order": 1, "format": 2, "change": 3, "key": 4, "head": 5}
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


Named = tuple[int, str, int]  # position, stream, version


class Leaves:
    """Leaf hashes in log order (32 bytes each) and the events they stand for."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.names: list[Named] = []

    def add(self, leaf: bytes, e: dict[str, Any]) -> None:
        """Append an event's leaf."""
        self.data += leaf
        self.names.append((e.get("position", -1), str(e.get("stream_id")), e.get("version", -1)))

    def __len__(self) -> int:
        return len(self.names)

    def root(self, start: int, end: int) -> bytes | None:
        """The tree head of leaves [start, end); None when there are fewer leaves."""
        if end > len(self):
            return None
        tree = Tree()
        for i in range(start, end):
            tree.add(bytes(self.data[32 * i : 32 * i + 32]))
        return tree.root()

    @classmethod
    def of(cls, events: Iterable[dict[str, Any]]) -> Leaves:
        """The leaves of an export."""
        leaves = cls()
        for e in events:
            leaves.add(leaf_hash(leaf_bytes(e)), e)
        return leaves


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def first_difference(size: int, ours: Leaves, theirs: Leaves) -> int:
    """The first leaf below size where two logs differ, by descending into the left half of
    the RFC 9162 tree when its subtree roots differ, else into the right."""
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if ours.root(start, start + k) != theirs.root(start, start + k):
            end = start + k
        else:
            start += k
    return start


def _named(name: Named | None) -> str:
    if name is None:
        return "no event"
    return f"stream {name[1]} version {name[2]} (position {name[0]})"


def locate(result: Result, ours: Leaves, earlier: Leaves) -> None:
    """Name the first event that differs from the smallest saved head that does not match."""
    head = result.mismatched
    if head is None:
        return
    if earlier.root(0, head.tree_size) != head.root_hash:
        result.problem(
            f"change: the earlier export does not reproduce the head of tree size "
            f"{head.tree_size:,} either, so it cannot name the event that changed"
        )
        return
    index = first_difference(head.tree_size, ours, earlier)
    now = ours.names[index] if index < len(ours) else None
    result.problem(
        f"change: the first event that differs from the head of tree size {head.tree_size:,} "
        f"is number {index + 1:,} of the log (leaf {index}): the earlier export has "
        f"{_named(earlier.names[index])} there, this export has {_named(now)}"
    )


def verify(
    events: Iterable[dict[str, Any]],
    heads: list[Head],
    keys: dict[str, Ed25519PublicKey],
    earlier: Leaves | None = None,
) -> Result:
    """Check every chain, every head's root at its size, and every signature against the
    pinned keys; with earlier, name the first event that differs from a head."""
    result = Result(heads=sum(h.label == "tree size" for h in heads))
    chains, tree, leaves = Chains(result), Tree(), Leaves()
    pending = sorted(heads, key=lambda h: h.tree_size)
    previous = (-1, -1)
    for e in events:
        here = (e["transaction_id"], e["position"])
        if here <= previous:
            result.problem(f"order: {_name(e)} is out of global order in the export")
        previous = here
        try:
            chains.add(e)
            leaf = leaf_hash(leaf_bytes(e))
        except (KeyError, TypeError, ValueError) as error:
            result.problem(f"format: {_name(e) if 'position' in e else e}: {error!r}")
            leaf = hashlib.sha256(b"unreadable").digest()
        tree.add(leaf)
        leaves.add(leaf, e)
        while pending and pending[0].tree_size == tree.size:
            _check_head(pending.pop(0), tree.root(), keys, result)
    result.events = tree.size
    chains.finish()
    for head in pending:
        _signature(head, keys, result)
        if head.label == "tree size" and result.mismatched is None:
            result.mismatched = head
        result.problem(
            f"head: {head.label} {head.tree_size:,} (sealed {_datetime(head.sealed_at)}) covers "
            f"more events than the export holds ({tree.size:,}): events were removed"
        )
    if earlier is not None:
        locate(result, leaves, earlier)
    return result


def still_served(saved: list[Head], served: list[Head], result: Result) -> None:
    """Every saved head must still be among the seals the server serves: else seals were
    deleted or replaced."""
    roots = {h.tree_size: h.root_hash for h in served}
    for head in saved:
        if roots.get(head.tree_size) != head.root_hash:
            gone = "serves no seal" if head.tree_size not in roots else "serves another seal"
            result.problem(
                f"head: tree size {head.tree_size:,} (sealed {_datetime(head.sealed_at)}): the "
                f"server {gone} of that size: seals were deleted or replaced"
            )


def _check_head(head: Head, root: bytes, keys: dict[str, Ed25519PublicKey], result: Result) -> None:
    _signature(head, keys, result)
    if head.root_hash == root:
        if head.label == "tree size":
            result.matched = head.tree_size
        return
    where = ""
    if head.label == "tree size" and not result.located:
        # Heads kept at many sizes narrow the search: the earlier one still matched.
        where = (
            f"; the first change is among events {result.matched + 1:,} to "
            f"{head.tree_size:,} of the export"
        )
        result.located = True
        result.mismatched = head
    result.problem(
        f"head: {head.label} {head.tree_size:,} (sealed {_datetime(head.sealed_at)}) has root "
        f"{head.root_hash.hex()} but the first {head.tree_size:,} events of the export "
        f"hash to {root.hex()}: the log was altered, reordered or replaced{where}"
    )


def _signature(head: Head, keys: dict[str, Ed25519PublicKey], result: Result) -> None:
    key = keys.get(head.key_id)
    if key is None:
        result.problem(
            f"key: {head.label} {head.tree_size:,} names key {head.key_id}, not the given "
            f"public key ({', '.join(keys)})"
        )
        return
    try:
        key.verify(head.signature, head.message())
    except InvalidSignature:
        result.problem(
            f"head: {head.label} {head.tree_size:,}: the signature does not verify with the "
            "given public key"
        )


def _options(args: list[str]) -> tuple[list[str], dict[str, str]]:
    """Positional arguments, and the values of --earlier and --seals."""
    positional, options = [], {}
    it = iter(args)
    for arg in it:
        if arg in ("--earlier", "--seals"):
            options[arg[2:]] = next(it, "")
        else:
            positional.append(arg)
    return positional, options


def main(argv: list[str] | None = None) -> int:
    """Run from the command line; print a report."""
    args, options = _options(sys.argv[1:] if argv is None else argv)
    if len(args) != 3 or "" in options.values():
        print(__doc__, file=sys.stderr)
        return 2
    export, heads_file, key_file = (Path(a) for a in args)
    try:
        saved = load_heads(heads_file)
        served = load_heads(Path(options["seals"]), "seal") if "seals" in options else []
        keys = load_public_keys(key_file)
        earlier = Leaves.of(read_export(Path(options["earlier"]))) if "earlier" in options else None
        result = verify(read_export(export), saved + served, keys, earlier)
        if "seals" in options:
            still_served(saved, served, result)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"cannot verify: {error}", file=sys.stderr)
        return 2
    print(
        f"checked {result.events:,} events in {result.streams:,} streams against "
        f"{result.heads:,} saved heads (keys {', '.join(keys)})"
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
