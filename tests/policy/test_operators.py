"""Constraint operators against the built-in left operands."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allmende.policy import Constraint, EvaluationContext, default_registry
from allmende.policy.operators import Truth, compare

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
START = datetime(2025, 1, 1, tzinfo=UTC)
REGISTRY = default_registry()


def truth(left: str, operator: str, right: object, **context: object) -> Truth:
    ctx = EvaluationContext(now=NOW, **context)  # type: ignore[arg-type]
    return compare(Constraint(left, operator, right), REGISTRY.resolve(left, ctx)).truth


S, N, U = Truth.SATISFIED, Truth.NOT_SATISFIED, Truth.UNKNOWN


@pytest.mark.parametrize(
    ("operator", "right", "expected"),
    [
        ("lteq", "2025-06-01T12:00:00Z", S),
        ("lt", "2025-06-01T12:00:00Z", N),
        ("gteq", "2025-06-01T14:00:00+02:00", S),  # the same instant in another offset
        ("gt", "2025-06-01", S),  # an xsd:date is midnight UTC
        ("eq", "2025-06-01T12:00Z", S),
        ("neq", "2025-06-01T12:00Z", N),
        ("lt", "not a date", U),
        ("isAnyOf", ["2025-06-01T12:00:00Z", "2026-01-01T00:00:00Z"], S),
    ],
)
def test_date_time(operator: str, right: object, expected: Truth) -> None:
    assert truth("dateTime", operator, right) is expected


@pytest.mark.parametrize(
    ("operator", "right", "expected"),
    [
        ("lteq", "P6M", S),  # 1 January + 6 months = 1 July, now is 1 June
        ("lteq", "P5M", N),  # 1 June 00:00 < now
        ("lt", "P5MT12H", N),
        ("lteq", "P5MT12H", S),
        ("gteq", "P5M", S),
        ("gt", "P1Y", N),
        ("eq", "P5MT12H", S),
        ("lteq", "P12M", S),
        ("lteq", "12 months", U),
        ("lteq", 5, U),
        ("isAnyOf", ["P1M"], U),
    ],
)
def test_elapsed_time_relative_to_the_agreement(operator: str, right: object, expected: Truth) -> None:
    assert truth("elapsedTime", operator, right, agreement_start=START) is expected


def test_elapsed_time_is_zero_before_an_agreement_exists() -> None:
    assert truth("elapsedTime", "lteq", "PT0S") is S
    assert truth("elapsedTime", "gt", "PT0S") is N


@pytest.mark.parametrize(
    ("used_before", "expected"),
    [(0, S), (9, S), (10, N)],
)
def test_count_lteq_allows_exactly_that_many_uses(used_before: int, expected: Truth) -> None:
    assert truth("count", "lteq", "10", use_count=used_before) is expected
    assert truth("count", "lt", {"n": 1} if False else 11, use_count=used_before) is expected


@pytest.mark.parametrize(
    ("operator", "right", "expected"),
    [
        ("eq", "maintenance", S),
        ("eq", "Maintenance", N),
        ("neq", "marketing", S),
        ("isAnyOf", ["research", "maintenance"], S),
        ("isNoneOf", ["research", "marketing"], S),
        ("isNoneOf", ["maintenance"], N),
        ("isA", "maintenance", S),
        ("gt", "maintenance", U),
        ("eq", 5, U),
    ],
)
def test_purpose(operator: str, right: object, expected: Truth) -> None:
    assert truth("purpose", operator, right, purpose="maintenance") is expected


@pytest.mark.parametrize(
    ("operator", "right", "expected"),
    [
        ("eq", "de", S),
        ("eq", "http://example.org/DE", S),
        ("eq", "EU", N),  # eq is exact; use isPartOf for regions
        ("isPartOf", "http://example.org/EU", S),
        ("isPartOf", ["EEA"], S),
        ("isAnyOf", ["FR", "AT"], N),
        ("isNoneOf", ["EU"], N),
        ("isNoneOf", ["US", "CN"], S),
    ],
)
def test_spatial(operator: str, right: object, expected: Truth) -> None:
    assert truth("spatial", operator, right, spatial="de") is expected


def test_assignee_and_party_alias() -> None:
    dids = ["did:web:a.example", "did:web:b.example"]
    assert truth("assignee", "isAnyOf", dids, assignee="did:web:b.example") is S
    assert truth("party", "eq", "did:web:c.example", assignee="did:web:b.example") is N
    assert truth("party", "eq", "did:web:c.example") is U  # nobody identified


@pytest.mark.parametrize(
    ("operator", "right", "expected"),
    [
        ("hasPart", ["x"], S),
        ("hasPart", ["x", "z"], N),
        ("isPartOf", ["x", "y", "z"], S),
        ("isPartOf", ["x"], N),
        ("isAllOf", ["y", "x"], S),
        ("isAllOf", ["x"], N),
        ("isAnyOf", ["z", "y"], S),
        ("isNoneOf", ["z"], S),
        ("eq", ["y", "x"], S),
        ("isA", "x", N),  # a set of two is not one thing
        ("lt", "x", U),
    ],
)
def test_set_operators_on_a_collection_valued_fact(operator: str, right: object, expected: Truth) -> None:
    assert truth("membership", operator, right, facts={"membership": frozenset({"x", "y"})}) is expected


def test_empty_collection_is_part_of_nothing() -> None:
    assert truth("membership", "isPartOf", ["x"], facts={"membership": frozenset()}) is N


def test_type_errors_are_unknown_with_a_reason() -> None:
    ctx = EvaluationContext(now=NOW, facts={"label": "abc"})
    outcome = compare(Constraint("label", "gt", 5), REGISTRY.resolve("label", ctx))
    assert outcome.truth is U
    assert "cannot be decided" in outcome.reason and "'abc'" in outcome.reason


@given(left=st.integers(-1000, 1000), right=st.integers(-1000, 1000))
def test_numeric_operators_agree_with_python(left: int, right: int) -> None:
    expected = {"eq": left == right, "neq": left != right, "gt": left > right, "gteq": left >= right,
                "lt": left < right, "lteq": left <= right}  # fmt: skip
    for operator, holds in expected.items():
        assert truth("level", operator, str(right), facts={"level": left}) is (S if holds else N)
