"""Forums: convened, renamed, members joining and leaving, stewards appointed and standing down."""

from uuid import uuid4

import pytest

from tracker.domain import Forum, InvalidValue, NotAllowed


@pytest.fixture
def convenor():
    return uuid4()


@pytest.fixture
def forum(convenor, replayed):
    return replayed(Forum.convene(uuid4(), "Ageing Well Partnership", convenor_id=convenor))


RULE = uuid4()


@pytest.fixture
def ruled(convenor, replayed):
    """A forum whose decision-rule agreement RULE is in force."""
    forum = Forum.convene(uuid4(), "Ageing Well Partnership", convenor_id=convenor)
    forum.adopt_decision_rule(RULE)
    return replayed(forum)


def test_a_forum_is_convened_with_its_convenor_as_member_and_steward(convenor):
    forum_id = uuid4()

    forum = Forum.convene(forum_id, "Ageing Well Partnership", convenor_id=convenor)

    [convened] = forum.collect_events()
    assert isinstance(convened, Forum.Convened)
    assert (forum.id, convened.convenor_id) == (forum_id, convenor)
    assert forum.is_member(convenor)
    assert forum.is_steward(convenor, "convenor")


def test_a_forum_keeps_uk_time_unless_told_otherwise(forum):
    assert forum.timezone == "Europe/London"


def test_a_forum_needs_a_name(convenor):
    with pytest.raises(InvalidValue) as refused:
        Forum.convene(uuid4(), " ", convenor_id=convenor)
    assert refused.value.field == "name"


def test_a_forum_is_renamed(forum):
    forum.rename("Healthy Ageing Partnership")

    [renamed] = forum.collect_events()
    assert isinstance(renamed, Forum.Renamed)
    assert forum.name == "Healthy Ageing Partnership"


def test_renaming_to_the_same_name_is_refused(forum):
    with pytest.raises(InvalidValue):
        forum.rename(forum.name)


def test_a_leader_joins_a_forum(forum):
    leader = uuid4()

    forum.join(leader)

    [joined] = forum.collect_events()
    assert isinstance(joined, Forum.MemberJoined)
    assert forum.is_member(leader)


def test_a_member_cannot_join_twice(forum, convenor):
    with pytest.raises(InvalidValue):
        forum.join(convenor)


def test_a_member_leaves_a_forum(forum):
    leader = uuid4()
    forum.join(leader)

    forum.leave(leader)

    assert isinstance(forum.collect_events()[-1], Forum.MemberLeft)
    assert not forum.is_member(leader)


def test_a_non_member_cannot_leave(forum):
    with pytest.raises(InvalidValue):
        forum.leave(uuid4())


def test_a_steward_stands_down_before_leaving(forum, convenor):
    with pytest.raises(NotAllowed) as refused:
        forum.leave(convenor)
    assert refused.value.rule == "stewards-stand-down-before-leaving"


def test_a_member_is_appointed_recorder(forum):
    leader = uuid4()
    forum.join(leader)

    forum.appoint_steward(leader, "recorder")

    appointed = forum.collect_events()[-1]
    assert isinstance(appointed, Forum.StewardAppointed)
    assert forum.is_steward(leader)
    assert not forum.is_steward(leader, "convenor")


def test_only_members_become_stewards(forum):
    with pytest.raises(NotAllowed) as refused:
        forum.appoint_steward(uuid4(), "recorder")
    assert refused.value.rule == "stewards-must-be-members"


def test_steward_roles_are_convenor_and_recorder(forum, convenor):
    with pytest.raises(InvalidValue) as refused:
        forum.appoint_steward(convenor, "chair")
    assert refused.value.field == "role"


def test_a_role_is_not_given_twice(forum, convenor):
    with pytest.raises(InvalidValue):
        forum.appoint_steward(convenor, "convenor")


def test_a_steward_stands_down(forum, convenor):
    forum.appoint_steward(convenor, "recorder")

    forum.stand_down_steward(convenor, "recorder")

    assert isinstance(forum.collect_events()[-1], Forum.StewardStoodDown)
    assert not forum.is_steward(convenor, "recorder")


def test_the_last_convenor_cannot_stand_down(forum, convenor):
    with pytest.raises(NotAllowed) as refused:
        forum.stand_down_steward(convenor, "convenor")
    assert refused.value.rule == "forum-needs-a-convenor"


def test_a_convenor_stands_down_once_another_is_appointed(forum, convenor):
    other = uuid4()
    forum.join(other)
    forum.appoint_steward(other, "convenor")

    forum.stand_down_steward(convenor, "convenor")

    assert not forum.is_steward(convenor)
    forum.leave(convenor)


def test_a_role_not_held_cannot_be_given_up(forum, convenor):
    with pytest.raises(InvalidValue):
        forum.stand_down_steward(convenor, "recorder")


def test_a_new_forum_has_no_decision_rule(forum):
    assert not forum.has_decision_rule


def test_a_forum_adopts_a_decision_rule(forum):
    agreement = uuid4()

    forum.adopt_decision_rule(agreement)

    [adopted] = forum.collect_events()
    assert isinstance(adopted, Forum.DecisionRuleAdopted)
    assert adopted.agreement_id == agreement
    assert forum.has_decision_rule


def test_a_decision_rule_is_not_adopted_twice(ruled):
    with pytest.raises(InvalidValue) as refused:
        ruled.adopt_decision_rule(RULE)
    assert refused.value.field == "agreement_id"


def test_a_forum_rescinds_its_only_decision_rule_and_has_none(ruled):
    ruled.rescind_decision_rule(RULE)

    [rescinded] = ruled.collect_events()
    assert isinstance(rescinded, Forum.DecisionRuleRescinded)
    assert rescinded.agreement_id == RULE
    assert not ruled.has_decision_rule


def test_a_forum_keeps_a_decision_rule_while_another_is_in_force(forum):
    first, second = uuid4(), uuid4()
    forum.adopt_decision_rule(first)
    forum.adopt_decision_rule(second)

    forum.rescind_decision_rule(first)

    assert forum.has_decision_rule


def test_a_decision_rule_not_in_force_cannot_be_rescinded(forum):
    with pytest.raises(InvalidValue) as refused:
        forum.rescind_decision_rule(uuid4())
    assert refused.value.field == "agreement_id"
