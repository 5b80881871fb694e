"""Decisions for tests that seed adopted purposes and agreements straight through the domain."""

from uuid import uuid4

from tracker.domain.values import BOOTSTRAP_CONSENT, Decision

# Under a decision rule in force (the domain takes the application's word that it is).
RULED = Decision("Consent of members present", uuid4(), 2)
# A forum's first rule, by the consent of its members.
BOOTSTRAP = Decision(BOOTSTRAP_CONSENT, consented_by=(uuid4(), uuid4()))
