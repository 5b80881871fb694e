"""Who is calling: a leader, another system, an auditor or an administrator."""

from __future__ import annotations

from uuid import UUID

import msgspec

LEADER = "leader"
INTEGRATION = "integration"
AUDITOR = "auditor"
ADMIN = "admin"
KINDS = (LEADER, INTEGRATION, AUDITOR, ADMIN)


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """An authenticated caller; a leader principal acts as that leader."""

    kind: str
    token_id: UUID
    name: str
    leader_id: UUID | None = None
    on_behalf_of: UUID | None = None
    # Integrations may be limited to some forums' views; None means all of them.
    forum_ids: tuple[UUID, ...] | None = None

    @property
    def actor(self) -> str:
        """How events record this caller."""
        if self.kind == LEADER:
            return f"leader:{self.leader_id}"
        return f"{self.kind}:{self.name}"

    def acting_for(self, leader_id: UUID | None) -> Principal:
        """The same caller, recording on behalf of a named leader."""
        return msgspec.structs.replace(self, on_behalf_of=leader_id)
