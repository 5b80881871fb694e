"""Domain errors carry the data an API needs to explain a refusal."""

from uuid import uuid4

from tracker.domain import DomainError, IllegalTransition, InvalidValue, NotAllowed


def test_an_illegal_transition_names_the_command_and_the_state():
    error = IllegalTransition("complete", "proposed")

    assert (error.command, error.state) == ("complete", "proposed")
    assert str(error) == "cannot complete when proposed"


def test_a_refusal_names_its_rule_and_who_was_refused():
    leader = uuid4()

    error = NotAllowed("only-owner-can-complete", leader)

    assert (error.rule, error.by) == ("only-owner-can-complete", leader)


def test_an_invalid_value_names_the_field_and_why():
    error = InvalidValue("due_on", "before the day the commitment was made")

    assert (error.field, error.reason) == ("due_on", "before the day the commitment was made")


def test_every_domain_error_shares_one_base():
    errors = [IllegalTransition("a", "b"), NotAllowed("r"), InvalidValue("f", "r")]

    assert all(isinstance(error, DomainError) for error in errors)
