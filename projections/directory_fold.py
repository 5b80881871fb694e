"""The directory as pure data: organisations, leaders, forums and memberships folded into rows.

The projection loads the rows a batch touches, folds the batch here and writes back what
changed; nothing here touches a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tracker.domain.forum import CONVENOR, RECORDER
from tracker.domain.leader import same_title
from tracker.eventstore import RecordedEvent

Row = dict[str, Any]
Pair = tuple[str, str]  # (forum_id, leader_id)

MEMBER, STEWARD = "member", "steward"
# A member's roles in the order they are listed: `steward` stands for holding any steward role.
STEWARD_ORDER = (CONVENOR, RECORDER)


def roles_of(steward_roles: set[str]) -> list[str]:
    """A member's roles: member, then steward and each steward role held."""
    held = [r for r in STEWARD_ORDER if r in steward_roles]
    held += sorted(steward_roles - set(STEWARD_ORDER))  # a role a later version may add
    return [MEMBER, STEWARD, *held] if held else [MEMBER]


def steward_roles(roles: list[str]) -> set[str]:
    """The steward roles a member row records."""
    return set(roles) - {MEMBER, STEWARD}


def _at(event: RecordedEvent) -> str:
    return event.occurred_at.isoformat()


@dataclass
class DirectoryFold:
    """Rows of the directory, changed event by event."""

    organisations: dict[str, Row] = field(default_factory=dict)
    leaders: dict[str, Row] = field(default_factory=dict)
    forums: dict[str, Row] = field(default_factory=dict)
    members: dict[Pair, Row] = field(default_factory=dict)
    left: set[Pair] = field(default_factory=set)
    dirty: set[tuple[str, Any]] = field(default_factory=set)

    def apply(self, event: RecordedEvent) -> None:
        """Fold one event into the rows it touches."""
        if event.stream_type == "organisation":
            self._organisation(event)
        elif event.stream_type == "leader":
            self._leader(event)
        elif event.stream_type == "forum":
            self._forum(event)

    def _organisation(self, event: RecordedEvent) -> None:
        key, p = str(event.stream_id), event.payload
        kind = event.type.removeprefix("organisation.")
        if kind == "registered":
            self.organisations[key] = {
                "organisation_id": key,
                "name": p["name"],
                "kind": p["kind"],
                "status": "active",
                "successor_id": None,
                "registered_at": _at(event),
            }
        elif kind == "renamed":
            self.organisations[key]["name"] = p["name"]
        elif kind == "successor_recorded":
            self.organisations[key]["successor_id"] = p["successor_id"]
        elif kind == "archived":
            self.organisations[key]["status"] = "archived"
        self.dirty.add(("organisation", key))

    def _leader(self, event: RecordedEvent) -> None:
        key, p = str(event.stream_id), event.payload
        kind = event.type.removeprefix("leader.")
        if kind == "registered":
            self.leaders[key] = {
                "leader_id": key,
                "name": p["name"],
                "email": p["email"],
                "status": "active",
                "registered_at": _at(event),
                "affiliations": [],
            }
        else:
            row = self.leaders[key]
            if kind == "details_corrected":
                row.update(name=p["name"], email=p["email"])
            elif kind == "deactivated":
                row["status"] = "deactivated"
            elif kind == "affiliation_recorded":
                held = {k: p[k] for k in ("organisation_id", "title", "from_on")}
                row["affiliations"] = [*row["affiliations"], held]
            elif kind == "affiliation_ended":
                row["affiliations"] = _ended(
                    row["affiliations"], p["organisation_id"], p.get("title")
                )
        self.dirty.add(("leader", key))

    def _forum(self, event: RecordedEvent) -> None:
        key, p = str(event.stream_id), event.payload
        kind = event.type.removeprefix("forum.")
        if kind == "convened":
            self.forums[key] = {
                "forum_id": key,
                "name": p["name"],
                "timezone": p["timezone"],
                "convened_at": _at(event),
            }
            self.dirty.add(("forum", key))
            self._join((key, p["convenor_id"]), event, {CONVENOR})
        elif kind == "renamed":
            self.forums[key]["name"] = p["name"]
            self.dirty.add(("forum", key))
        elif kind == "member_joined":
            self._join((key, p["leader_id"]), event, set())
        elif kind == "member_left":
            pair = (key, p["leader_id"])
            self.members.pop(pair, None)
            self.left.add(pair)
            self.dirty.discard(("member", pair))
        elif kind in ("steward_appointed", "steward_stood_down"):
            pair = (key, p["leader_id"])
            row = self.members[pair]
            held = steward_roles(row["roles"])
            if kind == "steward_appointed":
                held.add(p["role"])
            else:
                held.discard(p["role"])
            row["roles"] = roles_of(held)
            self.dirty.add(("member", pair))

    def _join(self, pair: Pair, event: RecordedEvent, held: set[str]) -> None:
        forum_id, leader_id = pair
        self.left.discard(pair)
        self.members[pair] = {
            "forum_id": forum_id,
            "leader_id": leader_id,
            "roles": roles_of(held),
            "joined_at": _at(event),
        }
        self.dirty.add(("member", pair))

    def table(self, kind: str) -> dict[Any, Row]:
        """The rows of one kind, by key."""
        tables: dict[str, dict[Any, Row]] = {
            "organisation": self.organisations,
            "leader": self.leaders,
            "forum": self.forums,
            "member": self.members,
        }
        return tables[kind]

    def touched(self, kind: str) -> list[Row]:
        """The rows of one kind that events changed."""
        table = self.table(kind)
        return [table[key] for k, key in self.dirty if k == kind]


def _ended(held: list[Row], organisation_id: str, title: str | None) -> list[Row]:
    """The current affiliations less the first the ending names (any role there, if untitled)."""
    for i, a in enumerate(held):
        if a["organisation_id"] == organisation_id and (
            title is None or same_title(a["title"], title)
        ):
            return [*held[:i], *held[i + 1 :]]
    return held
