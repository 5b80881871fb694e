"""A commitment's statuses and terms: the values its commands check and its state holds."""

from datetime import date

from tracker.domain.errors import InvalidValue

PROPOSED = "proposed"
ACTIVE = "active"
COMPLETED = "completed"
ACKNOWLEDGED = "acknowledged"
RELEASED = "released"
CANCELLED = "cancelled"
DECLINED = "declined"
WITHDRAWN = "withdrawn"
TERMINAL = frozenset({ACKNOWLEDGED, RELEASED, CANCELLED, DECLINED, WITHDRAWN})

# How a commitment in a meeting's minutes was made: by its owner in the room, or proposed to
# an owner who was absent or sent apologies.
MADE_IN_ROOM = "made_in_room"
PROPOSED_TO_ABSENT = "proposed_to_absent"

Terms = tuple[str, date | None]  # description and due date


def check_due(due_on: date | None, made_on: date) -> None:
    """Refuse a due date before the day the commitment was made."""
    if due_on is not None and due_on < made_on:
        raise InvalidValue("due_on", "before the day the commitment was made")
