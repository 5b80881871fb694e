"""Who runs a forum's business: members propose and endorse, stewards adopt, admins convene."""

from __future__ import annotations

import uuid

import pytest

from tests.application.conftest import RECORDER_CALL, Forum, as_kind, as_leader
from tracker.application import agreements, forums, purposes
from tracker.application.commands import Commands
from tracker.application.decisions import DecisionBasis
from tracker.application.errors import NotFound
from tracker.application.principal import INTEGRATION
from tracker.domain import Agreement, InvalidValue, NotAllowed
from tracker.eventstore.repository import Repository


def proposal(forum: Forum) -> agreements.ProposeAgreement:
    return agreements.ProposeAgreement(
        agreement_id=uuid.uuid4(),
        scope="forum",
        scope_id=forum.id,
        kind="decision_rule",
        title="Consent",
        text="We decide by consent",
    )


async def test_only_members_endorse_a_purpose(app: Commands, forum: Forum) -> None:
    endorse = purposes.PurposeStep(purpose_id=forum.purpose)
    with pytest.raises(NotFound):
        await purposes.endorse(app, as_leader(forum.outsider), endorse)
    await purposes.endorse(app, as_leader(forum.other_member), endorse)


async def test_an_integration_proposes_only_for_a_named_member(app: Commands, forum: Forum) -> None:
    with pytest.raises(InvalidValue) as refused:
        await agreements.propose(app, RECORDER_CALL, proposal(forum))
    assert refused.value.field == "On-Behalf-Of"
    with pytest.raises(NotAllowed):
        await agreements.propose(
            app, as_kind(INTEGRATION, on_behalf_of=forum.outsider), proposal(forum)
        )
    await agreements.propose(app, as_kind(INTEGRATION, on_behalf_of=forum.member), proposal(forum))


async def test_stewards_adopt_the_forums_decision_rule(
    app: Commands, repository: Repository, forum: Forum
) -> None:
    command = proposal(forum)
    await agreements.propose(app, as_leader(forum.member), command)
    everyone = (forum.convenor, forum.member, forum.other_member)
    consent = DecisionBasis(bootstrap="consent", consented_by=everyone)
    adopt = agreements.AdoptAgreement(agreement_id=command.agreement_id, basis=consent)
    with pytest.raises(NotAllowed) as refused:
        await agreements.adopt(app, as_leader(forum.member), adopt)
    assert refused.value.rule == "only-stewards-can-adopt-agreements"
    await agreements.adopt(app, as_leader(forum.convenor), adopt)
    assert (await repository.get(Agreement, command.agreement_id)).in_force


async def test_a_member_records_their_own_departure_but_not_anothers(
    app: Commands, forum: Forum
) -> None:
    leaving = forums.Membership(forum_id=forum.id, leader_id=forum.other_member)
    with pytest.raises(NotAllowed) as refused:
        await forums.depart(app, as_leader(forum.member), leaving)
    assert refused.value.rule == "only-admins-stewards-or-the-member-can-record-departures"
    await forums.depart(app, as_leader(forum.other_member), leaving)


async def test_an_unknown_time_zone_is_refused_before_anything_is_read(app: Commands) -> None:
    command = forums.ConveneForum(
        forum_id=uuid.uuid4(), name="Warm Spaces", convenor_id=uuid.uuid4(), timezone="Mars/Base"
    )
    with pytest.raises(InvalidValue) as refused:
        await forums.convene(app, as_kind("admin"), command)
    assert refused.value.field == "timezone"
