"""What a verification found: each mismatch, and the report that summarises them."""

from __future__ import annotations

from uuid import UUID

import msgspec

MAX_FINDINGS = 50  # kept per kind, so a flood of failing seals cannot hide the first event
# Findings that name an event come first: they say where the log was changed.
KIND_ORDER = {"chain": 0, "leaf": 1, "change": 2, "key": 3, "seal": 4, "head": 5}


class Finding(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One thing that does not match, with the event or head it concerns."""

    kind: str  # chain | leaf | change | key | seal | head
    message: str
    stream_id: UUID | None = None
    version: int | None = None
    position: int | None = None
    tree_size: int | None = None

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


class Report(msgspec.Struct, kw_only=True):
    """What was checked and what did not match, first problem first within each kind."""

    events: int = 0
    streams: int = 0
    leaves: int = 0
    seals: int = 0
    heads: int = 0
    seconds: float = 0.0
    findings: list[Finding] = msgspec.field(default_factory=list)
    more: int = 0  # findings beyond MAX_FINDINGS of a kind, counted but not kept
    notes: list[str] = msgspec.field(default_factory=list)  # what could not be checked

    @property
    def ok(self) -> bool:
        """Whether everything matched."""
        return not self.findings

    def add(self, finding: Finding) -> None:
        """Keep a finding (the first MAX_FINDINGS of its kind)."""
        if sum(f.kind == finding.kind for f in self.findings) < MAX_FINDINGS:
            self.findings.append(finding)
        else:
            self.more += 1

    def lines(self) -> list[str]:
        """A readable summary, then each finding."""
        rate = self.events / self.seconds if self.seconds > 0 else 0.0
        out = [
            f"checked {self.events:,} events in {self.streams:,} streams, {self.leaves:,} "
            f"stored leaves, {self.seals:,} seals and {self.heads:,} saved heads "
            f"in {self.seconds:.1f} s ({rate:,.0f} events/s)"
        ]
        out += [f"note: {n}" for n in self.notes]
        if self.ok:
            out.append("OK: every chain, leaf, seal and saved head matches the log")
            return out
        out.append(f"FAILED: {len(self.findings) + self.more} problem(s)")
        out += [f"  {f}" for f in self.findings]
        if self.more:
            out.append(f"  ... and {self.more} more")
        return out
