"""Differential privacy: sensitivities, noise scales, the OpenDP samplers and the budget rule."""

from __future__ import annotations

import statistics

import pytest

from allmende.compute.privacy import (
    NoiseColumn,
    PrivacyError,
    PrivacyRequest,
    check_budget,
    noise_scale,
    noisy_count,
    noisy_value,
    sensitivity,
)


def test_sensitivities_follow_the_documented_rules() -> None:
    assert sensitivity(NoiseColumn("n", "count")) == 1.0
    assert sensitivity(NoiseColumn("kwh", "sum", lower=-20.0, upper=5.0)) == 20.0
    assert sensitivity(NoiseColumn("load", "mean", lower=0.0, upper=1.0), group_size=50) == 0.02
    assert noise_scale(NoiseColumn("kwh", "sum", lower=0.0, upper=8.0), epsilon=0.5) == 16.0
    with pytest.raises(PrivacyError, match="positive group size"):
        sensitivity(NoiseColumn("load", "mean", lower=0.0, upper=1.0), group_size=0)


def test_request_splits_epsilon_over_its_columns() -> None:
    request = PrivacyRequest(
        1.5, (NoiseColumn("n", "count"), NoiseColumn("s", "sum", 0, 1), NoiseColumn("m", "sum"))
    )
    assert request.epsilon_per_column == 0.5


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: PrivacyRequest(0.0, (NoiseColumn("n", "count"),)), "positive"),
        (lambda: PrivacyRequest(float("inf"), (NoiseColumn("n", "count"),)), "positive"),
        (lambda: PrivacyRequest(1.0, ()), "at least one column"),
        (lambda: PrivacyRequest(1.0, (NoiseColumn("n", "count"), NoiseColumn("n", "count"))), "twice"),
        (lambda: NoiseColumn("s", "sum", lower=2.0, upper=1.0), "lower <= upper"),
        (lambda: NoiseColumn("s", "mean", lower=0.0, upper=float("nan")), "finite"),
        (lambda: NoiseColumn("s", "median"), "unknown statistic"),  # type: ignore[arg-type]
    ],
)
def test_bad_requests_are_refused(make: object, message: str) -> None:
    with pytest.raises(PrivacyError, match=message):
        make()  # type: ignore[operator]


def test_budget_rule() -> None:
    assert check_budget(spent=1.0, requested=0.5, budget=2.0).allowed
    assert check_budget(spent=1.0, requested=0.5, budget=2.0).remaining == 0.5
    assert check_budget(spent=1.5, requested=0.5, budget=2.0).allowed  # exactly at the budget
    refused = check_budget(spent=1.8, requested=0.5, budget=2.0)
    assert not refused.allowed
    assert refused.remaining == pytest.approx(0.2)
    assert "allows ε 0.2 more" in refused.reason
    assert not check_budget(spent=3.0, requested=0.1, budget=2.0).allowed
    assert check_budget(spent=3.0, requested=0.1, budget=2.0).remaining == 0.0
    with pytest.raises(PrivacyError):
        check_budget(spent=-1.0, requested=0.1, budget=2.0)


def test_count_noise_is_integer_non_negative_and_has_the_laplace_spread() -> None:
    draws = [noisy_count(100, epsilon=1.0) for _ in range(2000)]
    assert all(isinstance(d, int) and d >= 0 for d in draws)
    # discrete Laplace with scale 1: mean absolute deviation ~0.92; allow for sampling error
    deviation = statistics.fmean(abs(d - 100) for d in draws)
    assert 0.7 < deviation < 1.2
    assert noisy_count(0, epsilon=0.1) >= 0


def test_value_noise_has_the_scale_asked_for_and_respects_bounds() -> None:
    draws = [noisy_value(50.0, scale=2.0) for _ in range(2000)]
    assert 1.7 < statistics.fmean(abs(d - 50.0) for d in draws) < 2.3  # mean |Laplace(b)| = b
    assert all(0.0 <= noisy_value(0.99, scale=5.0, lower=0.0, upper=1.0) <= 1.0 for _ in range(100))
    assert noisy_value(3.0, scale=0.0) == 3.0
