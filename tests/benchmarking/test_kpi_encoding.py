"""KPIs: validation, fixed-point encoding, buckets, the contribution vector and the totals' sanity check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allmende.benchmarking.errors import BenchmarkError
from allmende.benchmarking.field import PRIME
from allmende.benchmarking.kpis import (
    Kpi,
    check_values,
    contribution,
    kpi_from_json,
    kpis_from_json,
    split_totals,
    vector_length,
)

OEE = Kpi("oee", "%", 0.0, 100.0, 4)
DELTA = Kpi("delta", "€", -50.0, 50.0, 2)


def test_buckets_and_fixed_point() -> None:
    assert OEE.edges() == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert [OEE.bucket_of(v) for v in (0, 24.99, 25, 99.9, 100, 150, -3)] == [0, 0, 1, 3, 3, 3, 0]
    assert OEE.fixed(73.41726) == 734173 and OEE.fixed(120) == 1_000_000 and DELTA.fixed(-60) == -500_000
    assert DELTA.sensitivity == 50.0


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_every_value_lands_in_one_bucket_within_bounds(value: float) -> None:
    bucket = OEE.bucket_of(value)
    assert 0 <= bucket < OEE.buckets
    assert OEE.lower * 10_000 <= OEE.fixed(value) <= OEE.upper * 10_000


def test_contribution_layout_and_missing_values() -> None:
    vector = contribution([OEE, DELTA], {"oee": 60.0, "delta": -12.5})
    assert vector_length([OEE, DELTA]) == len(vector) == 10
    assert vector[:6] == [600_000, 1, 0, 0, 1, 0]
    assert vector[6:] == [(-125_000) % PRIME, 1, 1, 0]
    assert contribution([OEE, DELTA], {"oee": 60.0})[6:] == [0, 0, 0, 0]


def test_totals_are_split_per_kpi_and_negative_sums_read_back() -> None:
    totals = [1_200_000, 2, 0, 0, 2, 0, (-250_000) % PRIME, 2, 2, 0]
    oee, delta = split_totals([OEE, DELTA], totals, contributors=3)
    assert (oee.count, oee.total, oee.histogram) == (2, 120.0, (0, 0, 2, 0))
    assert (delta.count, delta.total) == (2, -25.0)


@pytest.mark.parametrize(
    "totals",
    [
        [1_200_000, 4, 0, 0, 4, 0],  # more counted than contributed
        [1_200_000, 2, 0, 0, 1, 0],  # histogram does not add up to the count
        [3_000_000, 2, 0, 0, 2, 0],  # sum above count × upper bound
        [(-1) % PRIME, 1, 1, 0, 0, 0],  # negative sum for a KPI bounded below by 0
    ],
)
def test_totals_that_no_honest_round_gives_are_refused(totals: list[int]) -> None:
    with pytest.raises(BenchmarkError, match="inconsistent"):
        split_totals([OEE], totals, contributors=3)


@pytest.mark.parametrize(
    ("kpi", "message"),
    [
        ({"name": "", "lower": 0, "upper": 1}, "KPI name"),
        ({"name": "a b", "lower": 0, "upper": 1}, "KPI name"),
        ({"name": "x", "lower": 1, "upper": 1}, "lower bound must be below"),
        ({"name": "x", "lower": 0, "upper": float("inf")}, "finite numbers"),
        ({"name": "x", "lower": 0, "upper": True}, "finite numbers"),
        ({"name": "x", "lower": 0, "upper": 1, "buckets": 0}, "buckets"),
        ({"name": "x", "lower": 0, "upper": 1, "buckets": 101}, "buckets"),
        ({"name": "x", "lower": 0, "upper": 1, "unit": 5}, "unit"),
        ("oee", "must be an object"),
    ],
)
def test_malformed_kpis_are_refused_with_the_reason(kpi: object, message: str) -> None:
    with pytest.raises(BenchmarkError, match=message):
        kpi_from_json(kpi)


def test_kpi_lists_need_unique_names() -> None:
    one = {"name": "x", "lower": 0, "upper": 1}
    assert len(kpis_from_json([one])) == 1
    with pytest.raises(BenchmarkError, match="unique"):
        kpis_from_json([one, one])
    with pytest.raises(BenchmarkError, match="1 to 20"):
        kpis_from_json([])


def test_values_are_checked_against_the_round() -> None:
    assert check_values([OEE, DELTA], {"oee": 50, "delta": None}) == {"oee": 50.0}
    for values, message in [
        ({"speed": 1}, "no KPI speed"),
        ({"oee": 101}, "outside 0..100"),
        ({"oee": "high"}, "finite number"),
        ({"oee": None}, "at least one"),
    ]:
        with pytest.raises(BenchmarkError, match=message):
            check_values([OEE, DELTA], values)
