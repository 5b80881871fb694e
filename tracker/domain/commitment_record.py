"""A commitment's record: the purposes it cites, comments, and reasoned corrections."""

from datetime import date
from uuid import UUID

from tracker.domain.checks import require_rule, require_state, require_text
from tracker.domain.commitment_state import CommitmentState
from tracker.domain.commitment_terms import ACTIVE, PROPOSED
from tracker.domain.errors import InvalidValue


class Record(CommitmentState):
    """The commands that keep the record straight; comments and corrections work in any state."""

    def link_purpose(
        self, by: UUID, purpose_id: UUID, purpose_retired: bool = False, by_steward: bool = False
    ) -> None:
        """Cite another purpose; the caller says whether it is retired."""
        require_state("link_purpose", self.status, PROPOSED, ACTIVE)
        rule = "only-parties-or-stewards-can-link-purposes"
        require_rule(self.is_party(by) or by_steward, rule, by)
        require_rule(not purpose_retired, "purpose-is-retired")
        if purpose_id in self.purpose_ids:
            raise InvalidValue("purpose_id", "already linked")
        self._purpose_linked(by=by, purpose_id=purpose_id)

    def unlink_purpose(self, by: UUID, purpose_id: UUID, by_steward: bool = False) -> None:
        """Stop citing a purpose; at least one always remains."""
        require_state("unlink_purpose", self.status, PROPOSED, ACTIVE)
        rule = "only-parties-or-stewards-can-unlink-purposes"
        require_rule(self.is_party(by) or by_steward, rule, by)
        if purpose_id not in self.purpose_ids:
            raise InvalidValue("purpose_id", "not linked")
        require_rule(len(self.purpose_ids) > 1, "commitment-needs-a-purpose")
        self._purpose_unlinked(by=by, purpose_id=purpose_id)

    def comment(self, by: UUID, text: str) -> None:
        """Anyone comments, in any state."""
        require_text("text", text)
        self._commented(by=by, text=text)

    def correct_record(
        self,
        by: UUID,
        reason: str,
        due_on: date | None,
        description: str | None = None,
        by_steward: bool = False,
    ) -> None:
        """Fix a recording mistake, in any state; this is not a renegotiation."""
        rule = "only-parties-or-stewards-can-correct-the-record"
        require_rule(self.is_party(by) or by_steward, rule, by)
        require_text("reason", reason)
        new_description, new_due_on = self._changed_terms(description, due_on)
        self._record_corrected(by=by, reason=reason, description=new_description, due_on=new_due_on)
