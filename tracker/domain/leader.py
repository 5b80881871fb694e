"""Leader: a person, with dated affiliations to organisations that carry no rights."""

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any, Self
from uuid import UUID

from eventsourcing.domain import event

from tracker.domain.checks import require_state, require_text
from tracker.domain.clock import Aggregate
from tracker.domain.errors import InvalidValue
from tracker.domain.values import AffiliationSnapshot

ACTIVE = "active"
DEACTIVATED = "deactivated"


@dataclass(frozen=True)
class Affiliation:
    """A leader's organisation and self-described title over a span of dates."""

    organisation_id: UUID
    title: str
    from_on: date
    to_on: date | None = None

    def covers(self, day: date) -> bool:
        """Whether the affiliation held on the day."""
        return self.from_on <= day and (self.to_on is None or day <= self.to_on)

    def is_role(self, organisation_id: UUID, title: str | None) -> bool:
        """Whether this is the role with the organisation (any role, if no title is given)."""
        return self.organisation_id == organisation_id and (
            title is None or same_title(self.title, title)
        )

    def snapshot(self, organisation_name: str) -> AffiliationSnapshot:
        """The plain data other aggregates record for context."""
        return AffiliationSnapshot(self.organisation_id, organisation_name, self.title)


def same_title(a: str, b: str) -> bool:
    """Titles are self-described: case and surrounding spaces do not make a new role."""
    return a.strip().casefold() == b.strip().casefold()


def _check_email(email: str | None) -> None:
    if email is not None and "@" not in email:
        raise InvalidValue("email", "must be an email address")


class Leader(Aggregate):
    """A person who makes and receives commitments."""

    class Registered(Aggregate.Created):
        """A leader was registered."""

        name: str
        email: str | None

    class AffiliationRecorded(Aggregate.Event):
        """The leader began working with an organisation."""

        organisation_id: UUID
        title: str
        from_on: date

    class AffiliationEnded(Aggregate.Event):
        """The leader's affiliation with an organisation, in the titled role, ended."""

        # v1 events were recorded when a leader held one role per organisation at a time.
        class_version = 2

        organisation_id: UUID
        to_on: date
        title: str | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """A v1 event ended the one current role with the organisation."""
            state["title"] = None

    class DetailsCorrected(Aggregate.Event):
        """The leader's name or email was corrected."""

        name: str
        email: str | None

    class Deactivated(Aggregate.Event):
        """The leader no longer takes part."""

        reason: str

    @classmethod
    def register(cls, id: UUID, name: str, email: str | None = None) -> Self:
        """Register a leader."""
        require_text("name", name)
        _check_email(email)
        return cls(id, name=name, email=email)

    @event(Registered)
    def __init__(self, id: UUID, name: str, email: str | None) -> None:
        self.name = name
        self.email = email
        self.status = ACTIVE
        self.affiliations: list[Affiliation] = []

    def affiliation_on(self, day: date) -> Affiliation | None:
        """The affiliation that held on the day, the most recently begun if several did."""
        return max(self.affiliations_on(day), key=lambda a: a.from_on, default=None)

    def affiliations_on(self, day: date) -> list[Affiliation]:
        """Every role the leader held on the day, in the order they were recorded."""
        return [a for a in self.affiliations if a.covers(day)]

    def role_on(
        self, day: date, organisation_id: UUID | None = None, title: str | None = None
    ) -> Affiliation | None:
        """The role the leader acted in on the day: the one named, or the only one they held.

        Several roles held and none named is refused rather than guessed, naming `title`.
        """
        held = self.affiliations_on(day)
        named = [
            a
            for a in held
            if (organisation_id is None or a.organisation_id == organisation_id)
            and (title is None or same_title(a.title, title))
        ]
        if not named and (organisation_id is not None or title is not None):
            field = "title" if title is not None else "organisation_id"
            raise InvalidValue(field, "no such role held on the day")
        if len(named) > 1:
            roles = "; ".join(sorted(a.title for a in named))
            raise InvalidValue("title", f"several roles held on the day ({roles}): name one")
        return named[0] if named else None

    def open_affiliations(
        self, organisation_id: UUID, title: str | None = None
    ) -> list[Affiliation]:
        """The roles with the organisation that have not ended (only the titled one, if given)."""
        return [
            a for a in self.affiliations if a.to_on is None and a.is_role(organisation_id, title)
        ]

    def record_affiliation(self, organisation_id: UUID, title: str, from_on: date) -> None:
        """Record that the leader works with an organisation, in a role, from a date; several
        roles with one organisation may run at once, but not the same role twice."""
        require_state("record_affiliation", self.status, ACTIVE)
        require_text("title", title)
        for held in self.affiliations:
            overlaps = held.to_on is None or held.to_on >= from_on
            if overlaps and held.is_role(organisation_id, title):
                raise InvalidValue("title", "already affiliated with the organisation in this role")
        self._affiliation_recorded(organisation_id=organisation_id, title=title, from_on=from_on)

    def end_affiliation(self, organisation_id: UUID, to_on: date, title: str | None = None) -> None:
        """Record that a role with an organisation ended on a date; with several current roles
        there, the title says which."""
        require_state("end_affiliation", self.status, ACTIVE)
        current = self.open_affiliations(organisation_id, title)
        if not current:
            field = "organisation_id" if title is None else "title"
            raise InvalidValue(field, "no current affiliation")
        if len(current) > 1:
            roles = ", ".join(sorted(a.title for a in current))
            raise InvalidValue("title", f"several current roles with the organisation ({roles})")
        [affiliation] = current
        if to_on < affiliation.from_on:
            raise InvalidValue("to_on", "before the affiliation began")
        self._affiliation_ended(
            organisation_id=organisation_id, to_on=to_on, title=affiliation.title
        )

    def correct_details(self, name: str, email: str | None) -> None:
        """Correct the leader's name and email."""
        require_state("correct_details", self.status, ACTIVE)
        require_text("name", name)
        _check_email(email)
        if (name, email) == (self.name, self.email):
            raise InvalidValue("name", "unchanged")
        self._details_corrected(name=name, email=email)

    def deactivate(self, reason: str = "") -> None:
        """Stop the leader taking part."""
        require_state("deactivate", self.status, ACTIVE)
        self._deactivated(reason=reason)

    @event(AffiliationRecorded)
    def _affiliation_recorded(self, organisation_id: UUID, title: str, from_on: date) -> None:
        self.affiliations.append(Affiliation(organisation_id, title, from_on))

    @event(AffiliationEnded)
    def _affiliation_ended(self, organisation_id: UUID, to_on: date, title: str | None) -> None:
        ending = self.open_affiliations(organisation_id, title)[0]
        self.affiliations = [
            dataclasses.replace(a, to_on=to_on) if a is ending else a for a in self.affiliations
        ]

    @event(DetailsCorrected)
    def _details_corrected(self, name: str, email: str | None) -> None:
        self.name = name
        self.email = email

    @event(Deactivated)
    def _deactivated(self, reason: str) -> None:
        self.status = DEACTIVATED
