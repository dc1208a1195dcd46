"""Evaluation semantics: permissions, prohibitions, duties, logical constraints, plug-in operands."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allmende.policy import (
    Constraint,
    Duty,
    EvaluationContext,
    LogicalConstraint,
    Permission,
    Policy,
    PolicyError,
    Prohibition,
    default_registry,
    evaluate,
)
from allmende.policy.vocabulary import action_includes

NOW = datetime(2025, 6, 1, tzinfo=UTC)
CONSUMER = "did:web:consumer.example"


def offer(*rules: Permission | Prohibition, obligations: tuple[Duty, ...] = ()) -> Policy:
    permissions = tuple(rule for rule in rules if isinstance(rule, Permission))
    prohibitions = tuple(rule for rule in rules if isinstance(rule, Prohibition))
    return Policy("urn:p", "Offer", "urn:asset", "did:web:provider.example", None, permissions, prohibitions,
                  obligations)  # fmt: skip


def ctx(**changes: object) -> EvaluationContext:
    values: dict[str, object] = {"now": NOW, "assignee": CONSUMER, "purpose": "maintenance"}
    values.update(changes)
    return EvaluationContext(**values)  # type: ignore[arg-type]


PURPOSE_MAINTENANCE = Constraint("purpose", "eq", "maintenance")


def test_constraint_reason_names_expected_and_actual_values() -> None:
    decision = evaluate(offer(Permission("use", (PURPOSE_MAINTENANCE,))), ctx(purpose="marketing"))
    assert not decision.allowed
    assert any(
        "constraint purpose eq 'maintenance' not met: purpose is 'marketing'" in r for r in decision.reasons
    )


@pytest.mark.parametrize(
    ("granted", "requested", "covered"),
    [
        ("use", "read", True),
        ("use", "distribute", True),
        ("use", "textToSpeech", True),
        ("use", "sell", False),  # sell is part of transfer, not of use
        ("transfer", "sell", True),
        ("read", "use", False),
        ("display", "play", True),
        ("modify", "write", True),
        ("use", "ex:mine", False),
        ("odrl:use", "http://www.w3.org/ns/odrl/2/read", True),
    ],
)
def test_action_hierarchy(granted: str, requested: str, covered: bool) -> None:
    assert action_includes(granted, requested) is covered
    assert evaluate(offer(Permission(granted)), ctx(action=requested)).allowed is covered


def test_prohibition_wins_over_permission() -> None:
    policy = offer(Permission("use"), Prohibition("distribute"))
    assert evaluate(policy, ctx(action="read")).allowed
    decision = evaluate(policy, ctx(action="distribute"))
    assert not decision.allowed
    assert decision.prohibited_by == (Prohibition("distribute"),)
    assert decision.duties == ()


def test_constrained_prohibition_applies_only_when_its_constraint_holds() -> None:
    policy = offer(Permission("use"), Prohibition("use", (Constraint("purpose", "eq", "commercial"),)))
    assert evaluate(policy, ctx(purpose="research")).allowed
    assert not evaluate(policy, ctx(purpose="commercial")).allowed


def test_prohibition_with_an_undecidable_constraint_stays_in_force() -> None:
    policy = offer(Permission("use"), Prohibition("use", (Constraint("ex:riskClass", "eq", "high"),)))
    decision = evaluate(policy, ctx())
    assert not decision.allowed
    assert any("treated as in force" in reason for reason in decision.reasons)


def test_unknown_left_operand_denies_without_raising() -> None:
    decision = evaluate(offer(Permission("use", (Constraint("partner", "eq", "gold"),))), ctx())
    assert not decision.allowed
    assert any("left operand 'partner' is not known to this node" in reason for reason in decision.reasons)


def test_failing_plug_in_resolver_denies_with_its_message() -> None:
    registry = default_registry()

    def broken(_: EvaluationContext) -> object:
        raise RuntimeError("credential store offline")

    registry.register("membership", broken)
    decision = evaluate(offer(Permission("use", (Constraint("membership", "eq", "x"),))), ctx(), registry)
    assert not decision.allowed
    assert any("credential store offline" in reason for reason in decision.reasons)


def test_plug_in_operand_and_facts() -> None:
    policy = offer(Permission("use", (Constraint("membership", "hasPart", "did:web:verband.example"),)))
    assert not evaluate(policy, ctx()).allowed
    assert evaluate(policy, ctx(facts={"membership": frozenset({"did:web:verband.example"})})).allowed
    registry = default_registry()
    registry.register("membership", lambda c: frozenset(c.party_collections))
    assert evaluate(policy, ctx(party_collections=frozenset({"did:web:verband.example"})), registry).allowed
    assert "membership" not in default_registry().names()  # each call gives a fresh registry


def test_register_rejects_bad_arguments() -> None:
    with pytest.raises(PolicyError, match="non-empty string"):
        default_registry().register("", lambda c: None)
    with pytest.raises(PolicyError, match="must be callable"):
        default_registry().register("x", "not callable")  # type: ignore[arg-type]


def test_assignee_restricts_who_may_act() -> None:
    policy = offer(Permission("use", assignee=CONSUMER))
    assert evaluate(policy, ctx()).allowed
    assert not evaluate(policy, ctx(assignee="did:web:other.example")).allowed
    assert not evaluate(policy, ctx(assignee=None)).allowed
    collection = offer(Permission("use", assignee="did:web:verband.example#members"))
    members = frozenset({"did:web:verband.example#members"})
    assert evaluate(collection, ctx(party_collections=members)).allowed


def test_target_must_match_when_the_request_names_one() -> None:
    policy = offer(Permission("use"))
    assert evaluate(policy, ctx(target="urn:asset")).allowed
    assert evaluate(policy, ctx()).allowed
    assert not evaluate(policy, ctx(target="urn:other")).allowed
    collection = Policy(None, "Set", "urn:folder", None, None, (Permission("use"),))
    assert evaluate(collection, ctx(target="urn:file", target_collections=frozenset({"urn:folder"}))).allowed


def test_duties_are_returned_and_a_violated_duty_ends_the_permission() -> None:
    delete = Duty("delete", (Constraint("elapsedTime", "gteq", "P12M"),), uid="urn:duty:1")
    inform = Duty("inform")
    policy = offer(Permission("use", duties=(delete,)), obligations=(inform,))
    decision = evaluate(policy, ctx())
    assert decision.allowed and decision.duties == (delete, inform)
    assert not evaluate(policy, ctx(violated_duties=frozenset({"urn:duty:1"}))).allowed
    assert not evaluate(policy, ctx(violated_duties=frozenset({"delete"}))).allowed
    assert evaluate(policy, ctx(violated_duties=frozenset({"compensate"}))).allowed


def test_policy_without_permissions_denies() -> None:
    decision = evaluate(offer(Prohibition("sell")), ctx())
    assert not decision.allowed
    assert "the policy grants no permission" in decision.reasons


def test_and_sequence_stops_at_the_first_unmet_step() -> None:
    sequence = LogicalConstraint(
        "andSequence", (Constraint("purpose", "eq", "x"), Constraint("partner", "eq", "y"))
    )
    decision = evaluate(offer(Permission("use", (sequence,))), ctx())
    assert not decision.allowed
    assert not any("partner" in reason for reason in decision.reasons)


BOOLS = st.lists(st.booleans(), min_size=1, max_size=6)


def _purposes(flags: list[bool]) -> tuple[Constraint, ...]:
    return tuple(Constraint("purpose", "eq" if flag else "neq", "maintenance") for flag in flags)


@given(flags=BOOLS)
def test_logical_operators_match_their_definitions(flags: list[bool]) -> None:
    expected = {
        "and": all(flags),
        "andSequence": all(flags),
        "or": any(flags),
        "xone": flags.count(True) == 1,
    }
    for operator, holds in expected.items():
        node = LogicalConstraint(operator, _purposes(flags))  # type: ignore[arg-type]
        assert evaluate(offer(Permission("use", (node,))), ctx()).allowed is holds


@given(flags=BOOLS, unknown_at=st.integers(0, 5))
def test_unknown_member_never_makes_a_permission_hold_unless_decided(
    flags: list[bool], unknown_at: int
) -> None:
    members = list(_purposes(flags))
    members.insert(min(unknown_at, len(members)), Constraint("partner", "eq", "gold"))
    for operator in ("and", "or", "xone"):
        node = LogicalConstraint(operator, tuple(members))  # type: ignore[arg-type]
        allowed = evaluate(offer(Permission("use", (node,))), ctx()).allowed
        decided = {"and": False, "or": any(flags), "xone": False}[operator]
        assert allowed is decided


def test_count_limits_the_number_of_uses() -> None:
    policy = offer(Permission("use", (Constraint("count", "lteq", 3),)))
    assert [evaluate(policy, ctx(use_count=n)).allowed for n in range(5)] == [True, True, True, False, False]


def test_elapsed_time_permission_expires_after_the_agreed_period() -> None:
    policy = offer(Permission("use", (Constraint("elapsedTime", "lteq", "P12M"),)))
    start = datetime(2024, 6, 1, tzinfo=UTC)
    assert evaluate(policy, ctx(agreement_start=start, now=datetime(2025, 6, 1, tzinfo=UTC))).allowed
    assert not evaluate(
        policy, ctx(agreement_start=start, now=datetime(2025, 6, 1, 0, 0, 1, tzinfo=UTC))
    ).allowed
    assert evaluate(policy, ctx(agreement_start=None)).allowed  # at negotiation time nothing has elapsed


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("now", datetime(2025, 1, 1), "now: must be a timezone-aware datetime"),
        ("agreement_start", "2025-01-01", "agreement_start: must be a timezone-aware datetime"),
        ("use_count", -1, "use_count: must be a non-negative integer"),
        ("use_count", True, "use_count: must be a non-negative integer"),
    ],
)
def test_context_rejects_bad_values(field: str, value: object, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        ctx(**{field: value})
