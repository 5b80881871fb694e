"""Doing what was promised: progress, completion and its answer, release and cancellation."""

from uuid import UUID

from tracker.domain.checks import require_state, require_text
from tracker.domain.commitment_state import CommitmentState
from tracker.domain.commitment_terms import ACTIVE, COMPLETED
from tracker.domain.errors import InvalidValue


class Delivery(CommitmentState):
    """The commands that carry an active commitment to an outcome."""

    def report_progress(self, by: UUID, percent: int, note: str = "") -> None:
        """The owner reports progress; going down needs a note saying why."""
        require_state("report_progress", self.status, ACTIVE)
        self._check_owner(by, "only-owner-can-report-progress")
        if not 0 <= percent <= 100:
            raise InvalidValue("percent", "must be between 0 and 100")
        if self.progress is not None and percent < self.progress and not note.strip():
            raise InvalidValue("note", "required when progress goes down")
        self._progress_reported(by=by, percent=percent, note=note)

    def release(self, by: UUID, reason: str) -> None:
        """The owner releases the commitment with a reason: an honourable outcome."""
        require_state("release", self.status, ACTIVE)
        self._check_owner(by, "only-owner-can-release")
        require_text("reason", reason)
        self._released(by=by, reason=reason)

    def complete(self, by: UUID, note: str = "") -> None:
        """The owner says the commitment is done."""
        require_state("complete", self.status, ACTIVE)
        self._check_owner(by, "only-owner-can-complete")
        self._completed(by=by, note=note)

    def acknowledge(self, by: UUID, by_steward: bool = False) -> None:
        """The requester (or a steward, when none) accepts the completion."""
        require_state("acknowledge", self.status, COMPLETED)
        self._check_requester_or_steward(
            by, by_steward, "only-requester-or-steward-can-acknowledge"
        )
        self._acknowledged(by=by)

    def dispute(self, by: UUID, reason: str, by_steward: bool = False) -> None:
        """The requester (or a steward, when none) disputes completion; it is active again."""
        require_state("dispute", self.status, COMPLETED)
        self._check_requester_or_steward(by, by_steward, "only-requester-or-steward-can-dispute")
        require_text("reason", reason)
        self._disputed(by=by, reason=reason)

    def cancel(self, by: UUID, reason: str, by_steward: bool = False) -> None:
        """The requester (or a steward, when none) cancels an active commitment."""
        require_state("cancel", self.status, ACTIVE)
        self._check_requester_or_steward(by, by_steward, "only-requester-or-steward-can-cancel")
        require_text("reason", reason)
        self._cancelled(by=by, reason=reason)

    def reopen(self, by: UUID, reason: str = "") -> None:
        """The owner reopens a completed commitment."""
        require_state("reopen", self.status, COMPLETED)
        self._check_owner(by, "only-owner-can-reopen")
        self._reopened(by=by, reason=reason)
