"""Forum: the cross-system partnership that meets, with its members and stewards."""

from typing import Self
from uuid import UUID

from eventsourcing.domain import event

from tracker.domain.checks import require_one_of, require_rule, require_text
from tracker.domain.clock import Aggregate
from tracker.domain.errors import InvalidValue

CONVENOR = "convenor"
RECORDER = "recorder"
STEWARD_ROLES = frozenset({CONVENOR, RECORDER})
DEFAULT_TIMEZONE = "Europe/London"


class Forum(Aggregate):
    """Leaders from several organisations who meet; stewards convene and record."""

    class Convened(Aggregate.Created):
        """A forum was convened; its convenor is its first member and steward."""

        name: str
        timezone: str
        convenor_id: UUID

    class Renamed(Aggregate.Event):
        """The forum took a new name."""

        name: str

    class MemberJoined(Aggregate.Event):
        """A leader joined the forum."""

        leader_id: UUID

    class MemberLeft(Aggregate.Event):
        """A leader left the forum."""

        leader_id: UUID

    class StewardAppointed(Aggregate.Event):
        """A member took on a steward role."""

        leader_id: UUID
        role: str

    class StewardStoodDown(Aggregate.Event):
        """A steward gave up a role."""

        leader_id: UUID
        role: str

    class DecisionRuleAdopted(Aggregate.Event):
        """An agreement became one of the forum's decision rules in force."""

        agreement_id: UUID

    class DecisionRuleRescinded(Aggregate.Event):
        """A decision-rule agreement of the forum is no longer in force."""

        agreement_id: UUID

    @classmethod
    def convene(
        cls, id: UUID, name: str, convenor_id: UUID, timezone: str = DEFAULT_TIMEZONE
    ) -> Self:
        """Convene a new forum with its first convenor."""
        require_text("name", name)
        require_text("timezone", timezone)
        return cls(id, name=name, timezone=timezone, convenor_id=convenor_id)

    @event(Convened)
    def __init__(self, id: UUID, name: str, timezone: str, convenor_id: UUID) -> None:
        self.name = name
        self.timezone = timezone
        self.members: set[UUID] = {convenor_id}
        self.stewards: dict[UUID, set[str]] = {convenor_id: {CONVENOR}}
        self.decision_rules: set[UUID] = set()

    def is_member(self, leader_id: UUID) -> bool:
        """Whether the leader is a member."""
        return leader_id in self.members

    def is_steward(self, leader_id: UUID, role: str | None = None) -> bool:
        """Whether the leader holds the role, or any steward role when none is named."""
        roles = self.stewards.get(leader_id, set())
        return bool(roles) if role is None else role in roles

    @property
    def has_decision_rule(self) -> bool:
        """Whether a decision-rule agreement is in force, so bootstrap consent is spent."""
        return bool(self.decision_rules)

    def holders_of(self, role: str) -> set[UUID]:
        """The leaders holding a steward role."""
        return {leader for leader, roles in self.stewards.items() if role in roles}

    def rename(self, name: str) -> None:
        """Give the forum a new name."""
        require_text("name", name)
        if name == self.name:
            raise InvalidValue("name", "unchanged")
        self._renamed(name=name)

    def join(self, leader_id: UUID) -> None:
        """Admit a leader as a member."""
        if self.is_member(leader_id):
            raise InvalidValue("leader_id", "already a member")
        self._member_joined(leader_id=leader_id)

    def leave(self, leader_id: UUID) -> None:
        """A member leaves; stewards stand down first so no role is left dangling."""
        if not self.is_member(leader_id):
            raise InvalidValue("leader_id", "not a member")
        require_rule(not self.is_steward(leader_id), "stewards-stand-down-before-leaving")
        self._member_left(leader_id=leader_id)

    def appoint_steward(self, leader_id: UUID, role: str) -> None:
        """Give a member a steward role."""
        require_one_of("role", role, STEWARD_ROLES)
        require_rule(self.is_member(leader_id), "stewards-must-be-members", leader_id)
        if self.is_steward(leader_id, role):
            raise InvalidValue("role", f"already {role}")
        self._steward_appointed(leader_id=leader_id, role=role)

    def stand_down_steward(self, leader_id: UUID, role: str) -> None:
        """A steward gives up a role; the forum always keeps a convenor."""
        if not self.is_steward(leader_id, role):
            raise InvalidValue("role", f"not {role}")
        last_convenor = role == CONVENOR and self.holders_of(CONVENOR) == {leader_id}
        require_rule(not last_convenor, "forum-needs-a-convenor", leader_id)
        self._steward_stood_down(leader_id=leader_id, role=role)

    def adopt_decision_rule(self, agreement_id: UUID) -> None:
        """Record that a decision-rule agreement of the forum came into force."""
        if agreement_id in self.decision_rules:
            raise InvalidValue("agreement_id", "already in force")
        self._decision_rule_adopted(agreement_id=agreement_id)

    def rescind_decision_rule(self, agreement_id: UUID) -> None:
        """Record that a decision-rule agreement of the forum is no longer in force."""
        if agreement_id not in self.decision_rules:
            raise InvalidValue("agreement_id", "not in force")
        self._decision_rule_rescinded(agreement_id=agreement_id)

    @event(Renamed)
    def _renamed(self, name: str) -> None:
        self.name = name

    @event(MemberJoined)
    def _member_joined(self, leader_id: UUID) -> None:
        self.members.add(leader_id)

    @event(MemberLeft)
    def _member_left(self, leader_id: UUID) -> None:
        self.members.discard(leader_id)

    @event(StewardAppointed)
    def _steward_appointed(self, leader_id: UUID, role: str) -> None:
        self.stewards.setdefault(leader_id, set()).add(role)

    @event(StewardStoodDown)
    def _steward_stood_down(self, leader_id: UUID, role: str) -> None:
        self.stewards[leader_id].discard(role)
        if not self.stewards[leader_id]:
            del self.stewards[leader_id]

    @event(DecisionRuleAdopted)
    def _decision_rule_adopted(self, agreement_id: UUID) -> None:
        self.decision_rules.add(agreement_id)

    @event(DecisionRuleRescinded)
    def _decision_rule_rescinded(self, agreement_id: UUID) -> None:
        self.decision_rules.discard(agreement_id)
