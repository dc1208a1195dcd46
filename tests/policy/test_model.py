"""The policy model: term normalisation and rejection of malformed values."""

from __future__ import annotations

from datetime import datetime

import pytest

from allmende.policy import Constraint, Duty, LogicalConstraint, Permission, Policy, PolicyError, Prohibition


@pytest.mark.parametrize("action", ["use", "odrl:use", "http://www.w3.org/ns/odrl/2/use", " use "])
def test_action_forms_normalise_to_the_short_name(action: str) -> None:
    assert Permission(action).action == "use"
    assert Prohibition(action).action == "use"
    assert Duty(action).action == "use"


def test_foreign_vocabulary_terms_are_kept_verbatim() -> None:
    constraint = Constraint("https://w3id.org/edc/v0.0.1/ns/region", "odrl:eq", "eu")
    assert constraint.left_operand == "https://w3id.org/edc/v0.0.1/ns/region"
    assert constraint.operator == "eq"


def test_list_right_operands_become_tuples() -> None:
    constraint = Constraint("spatial", "isAnyOf", ["DE", ["AT"]])
    assert constraint.right_operand == ("DE", ("AT",))
    hash(constraint)


def test_unknown_operator_is_a_policy_error_naming_the_valid_ones() -> None:
    with pytest.raises(PolicyError, match=r"operator: unknown operator 'approximately'.*isAnyOf"):
        Constraint("purpose", "approximately", "research")


@pytest.mark.parametrize("right", [None, {"a": 1}])
def test_right_operand_must_be_a_value(right: object) -> None:
    with pytest.raises(PolicyError, match="rightOperand"):
        Constraint("purpose", "eq", right)


def test_empty_action_is_rejected() -> None:
    with pytest.raises(PolicyError, match="action: must be a non-empty string"):
        Permission("  ")


def test_logical_constraint_needs_a_known_operator_and_members() -> None:
    with pytest.raises(PolicyError, match="unknown logical operator 'nand'"):
        LogicalConstraint("nand", (Constraint("purpose", "eq", "x"),))  # type: ignore[arg-type]
    with pytest.raises(PolicyError, match="at least one constraint"):
        LogicalConstraint("or", ())


def test_policy_type_and_timestamp_are_checked() -> None:
    with pytest.raises(PolicyError, match="@type: unknown policy type 'Contract'"):
        Policy(None, "Contract", None, None, None)  # type: ignore[arg-type]
    with pytest.raises(PolicyError, match="timestamp: must be timezone-aware"):
        Policy(None, "Agreement", None, None, None, timestamp=datetime(2025, 1, 1))


def test_rule_inherits_target_and_assignee_from_the_policy() -> None:
    own = Permission("use", target="urn:a", assignee="did:web:x")
    inherited = Permission("use")
    policy = Policy(None, "Agreement", "urn:p", "did:web:p", "did:web:c", (own, inherited))
    assert (policy.target_of(own), policy.assignee_of(own)) == ("urn:a", "did:web:x")
    assert (policy.target_of(inherited), policy.assignee_of(inherited)) == ("urn:p", "did:web:c")
