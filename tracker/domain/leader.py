"""Leader: a person, with dated affiliations to organisations that carry no rights."""

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Self
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

    def snapshot(self, organisation_name: str) -> AffiliationSnapshot:
        """The plain data other aggregates record for context."""
        return AffiliationSnapshot(self.organisation_id, organisation_name, self.title)


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
        """The leader's affiliation with an organisation ended."""

        organisation_id: UUID
        to_on: date

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
        held = [a for a in self.affiliations if a.covers(day)]
        return max(held, key=lambda a: a.from_on, default=None)

    def open_affiliation(self, organisation_id: UUID) -> Affiliation | None:
        """The affiliation with the organisation that has not ended, if any."""
        for affiliation in self.affiliations:
            if affiliation.organisation_id == organisation_id and affiliation.to_on is None:
                return affiliation
        return None

    def record_affiliation(self, organisation_id: UUID, title: str, from_on: date) -> None:
        """Record that the leader works with an organisation from a date."""
        require_state("record_affiliation", self.status, ACTIVE)
        if self.open_affiliation(organisation_id) is not None:
            raise InvalidValue("organisation_id", "already affiliated")
        self._affiliation_recorded(organisation_id=organisation_id, title=title, from_on=from_on)

    def end_affiliation(self, organisation_id: UUID, to_on: date) -> None:
        """Record that the leader's affiliation with an organisation ended on a date."""
        require_state("end_affiliation", self.status, ACTIVE)
        affiliation = self.open_affiliation(organisation_id)
        if affiliation is None:
            raise InvalidValue("organisation_id", "no current affiliation")
        if to_on < affiliation.from_on:
            raise InvalidValue("to_on", "before the affiliation began")
        self._affiliation_ended(organisation_id=organisation_id, to_on=to_on)

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
    def _affiliation_ended(self, organisation_id: UUID, to_on: date) -> None:
        ending = self.open_affiliation(organisation_id)
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
