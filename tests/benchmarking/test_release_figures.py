"""Released figures: withheld below the minimum, quartiles from the histogram, DP noise, one's standing."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from allmende.benchmarking.errors import BenchmarkError
from allmende.benchmarking.kpis import Kpi, KpiTotals
from allmende.benchmarking.release import (
    Figures,
    figures_from_json,
    figures_json,
    opendp_noise,
    position,
    quantile,
    quartiles,
    release,
)

OEE = Kpi("oee", "%", 0.0, 100.0, 4)


def totals(histogram: tuple[int, ...], fixed_sum: int) -> KpiTotals:
    return KpiTotals(OEE, sum(histogram), fixed_sum, histogram)


def test_count_mean_histogram_and_quartiles() -> None:
    [figures] = release([totals((0, 1, 2, 3), 4_000_000)], min_participants=5)
    assert (figures.count, figures.mean, figures.histogram) == (
        6,
        pytest.approx(66.6667, abs=1e-4),
        (0, 1, 2, 3),
    )
    assert figures.quartiles == pytest.approx((56.25, 75.0, 87.5))
    assert figures.withheld is None


def test_fewer_contributors_than_the_minimum_release_nothing() -> None:
    [figures] = release([totals((0, 1, 2, 1), 2_000_000)], min_participants=5)
    assert figures.withheld == "fewer than 5 participants gave a value"
    assert figures.count is figures.mean is figures.histogram is figures.quartiles is None


def test_quantiles_read_linearly_within_buckets() -> None:
    edges = [0.0, 10.0, 20.0]
    assert quantile(edges, [2, 2], 0.5) == 10.0
    assert quantile(edges, [4, 0], 0.25) == 2.5
    assert quantile(edges, [0, 0], 0.5) is None and quartiles(edges, [0, 0]) is None


def test_noise_is_added_with_scales_from_the_bounds() -> None:
    scales: list[float] = []

    def fake(values: Sequence[int], scale: float) -> list[int]:
        scales.append(scale)
        return [v + 1 for v in values]

    [figures] = release([totals((0, 1, 2, 3), 4_000_000)], 5, epsilon=3.0, noise=fake)
    assert scales == [1.0, 100.0 * 10_000, 1.0]  # count, sum (max |bound| in fixed point), histogram
    assert figures.count == 7 and figures.histogram == (1, 2, 3, 4) and figures.epsilon == 3.0
    assert figures.mean == pytest.approx(4_000_001 / 10_000 / 7)


def test_opendp_noise_is_integer_and_centred() -> None:
    noisy = opendp_noise([1000] * 400, 2.0)
    assert all(isinstance(v, int) for v in noisy) and noisy != [1000] * 400
    assert abs(sum(noisy) / len(noisy) - 1000) < 1.0


def test_standing_against_the_distribution() -> None:
    [figures] = release([totals((0, 1, 2, 3), 4_000_000)], 5)
    low, high = position(30.0, figures), position(95.0, figures)
    assert low is not None and high is not None
    assert (low["bucket"], low["quartile"], low["percentile"]) == (1, 1, pytest.approx(3.3, abs=0.1))
    assert (high["bucket"], high["quartile"], high["percentile"]) == (3, 4, pytest.approx(90.0, abs=0.1))
    assert high["differenceFromMean"] == pytest.approx(95.0 - 66.6667, abs=1e-3)
    withheld = Figures(OEE, None, None, None, None, withheld="too few")
    assert position(30.0, withheld) is None


def test_results_round_trip_and_malformed_ones_are_refused() -> None:
    figures = release([totals((0, 1, 2, 3), 4_000_000)], 5)
    sent = [figures_json(f) for f in figures]
    assert figures_from_json([OEE], sent) == figures
    for broken, message in [
        ([], "every KPI"),
        ([{**sent[0], "name": "other"}], "no figures for KPI oee"),
        ([{**sent[0], "histogram": [1, 2]}], "does not fit its 4 buckets"),
        ([{**sent[0], "count": -1}], "count"),
        ([{**sent[0], "mean": "high"}], "mean"),
    ]:
        with pytest.raises(BenchmarkError, match=message):
            figures_from_json([OEE], broken)
