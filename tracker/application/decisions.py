"""The rule a forum's decision is made under, looked up by id and checked to be in force."""

from __future__ import annotations

from uuid import UUID

import msgspec

from tracker.application.errors import NotFound
from tracker.application.ports import Repository
from tracker.domain import Agreement, Forum, InvalidValue, Meeting, Purpose
from tracker.domain.agreement import FORUM
from tracker.domain.decision import by_bootstrap_consent, under_rule
from tracker.domain.meeting import ATTENDED, NAME_THE_RULE
from tracker.domain.values import FIRST_RULE_ONLY, Decision


class DecisionBasis(msgspec.Struct, frozen=True, kw_only=True):
    """A decision rule in force, by id; or bootstrap consent, naming who consented."""

    decision_rule_id: UUID | None = None
    bootstrap: str | None = None
    consented_by: tuple[UUID, ...] = ()


def present_at(meeting: Meeting | None) -> tuple[UUID, ...] | None:
    """Who the meeting records as attending, in the order recorded; None without a meeting."""
    if meeting is None:
        return None
    return tuple(i for i, a in meeting.attendance.items() if a.presence == ATTENDED)


async def decision(
    repository: Repository,
    forum: Forum,
    basis: DecisionBasis,
    meeting: Meeting | None,
    first_rule: bool = False,
) -> Decision:
    """The decision the basis describes, refused (naming the field) unless the rule is in force;
    bootstrap consent only when the decision adopts the forum's `first_rule`."""
    present = present_at(meeting)
    if basis.bootstrap is not None:
        if basis.decision_rule_id is not None:
            raise InvalidValue("bootstrap", "name a decision rule or bootstrap consent, not both")
        if not first_rule:
            raise InvalidValue("bootstrap", FIRST_RULE_ONLY)
        return by_bootstrap_consent(forum.members, basis.consented_by, present)
    if basis.consented_by:
        raise InvalidValue("consented_by", "recorded only with bootstrap consent")
    if basis.decision_rule_id is None:
        raise InvalidValue("decision_rule_id", "must name a decision rule of the forum in force")
    rule, rule_forum = await rule_of(repository, basis.decision_rule_id)
    return under_rule(rule, basis.decision_rule_id, rule_forum, forum.id, present or ())


async def rule_of(repository: Repository, rule_id: UUID) -> tuple[Agreement | None, UUID | None]:
    """The agreement a decision names, and the forum it belongs to; (None, None) if unknown."""
    try:
        rule = await repository.read(Agreement, rule_id)
        if rule.scope == FORUM:
            return rule, rule.scope_id
        return rule, (await repository.read(Purpose, rule.scope_id)).forum_id
    except NotFound:
        return None, None


def names_a_basis(basis: DecisionBasis) -> bool:
    """Whether the basis names a rule, or bootstrap consent, or anyone consenting."""
    return basis != DecisionBasis()


async def meeting_decision(
    repository: Repository, forum: Forum, basis: DecisionBasis, meeting: Meeting
) -> Decision | None:
    """The rule a meeting decided under: the forum's rule in force, named by id, whenever it has
    one; with none in force, bootstrap consent of every member present, or no rule at all."""
    if not names_a_basis(basis):
        if forum.has_decision_rule:
            raise InvalidValue("decision_rule_id", NAME_THE_RULE)
        return None
    return await decision(repository, forum, basis, meeting, not forum.has_decision_rule)


async def change_decision(
    repository: Repository, forum: Forum, rule_id: UUID | None, meeting: Meeting | None
) -> Decision | None:
    """The rule an amendment or rescission is decided under: the forum's rule in force, named by
    id, whenever it has one; with none in force, no rule (bootstrap consent adopts first rules
    only)."""
    if rule_id is None:
        if forum.has_decision_rule:
            raise InvalidValue("decision_rule_id", NAME_THE_RULE)
        return None
    return await decision(repository, forum, DecisionBasis(decision_rule_id=rule_id), meeting)
