"""What a round releases from the reconstructed totals, and where a participant stands (pure).

Per KPI: the count, the mean, the histogram and quartiles read from the histogram (linear within a
bucket). A KPI with fewer contributors than the round's minimum is withheld. With ``epsilon`` set,
differentially private noise (OpenDP's discrete Laplace mechanism) is added to the count, the sum and
each histogram bucket before anything is derived from them; ``epsilon`` is split evenly over the three.
Sensitivities (one participant added or removed): count 1, histogram 1 (L1: one bucket changes by
one), sum ``max(|lower|, |upper|)`` (values are clamped to the bounds).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from allmende.benchmarking.errors import BenchmarkError
from allmende.benchmarking.kpis import SCALE, Kpi, KpiTotals

Noise = Callable[[Sequence[int], float], list[int]]
"""``noise(values, scale)``: the values with independent discrete Laplace noise of ``scale`` added."""


def opendp_noise(values: Sequence[int], scale: float) -> list[int]:
    """Discrete Laplace noise from OpenDP (imported on first use: it is a large library)."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    measurement = dp.m.make_laplace(
        dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int), scale=scale
    )
    return [int(v) for v in measurement(list(values))]


@dataclass(frozen=True)
class Figures:
    """The released figures of one KPI (``withheld`` says why there are none)."""

    kpi: Kpi
    count: int | None
    mean: float | None
    histogram: tuple[int, ...] | None
    quartiles: tuple[float, float, float] | None
    withheld: str | None = None
    epsilon: float | None = None


def release(
    totals: Sequence[KpiTotals],
    min_participants: int,
    *,
    epsilon: float | None = None,
    noise: Noise = opendp_noise,
) -> list[Figures]:
    """The figures of every KPI; those with fewer than ``min_participants`` contributors are withheld."""
    released: list[Figures] = []
    for kpi_totals in totals:
        kpi = kpi_totals.kpi
        if kpi_totals.count < min_participants:
            reason = f"fewer than {min_participants} participants gave a value"
            released.append(Figures(kpi, None, None, None, None, withheld=reason))
            continue
        count, fixed_sum, histogram = kpi_totals.count, kpi_totals.fixed_sum, list(kpi_totals.histogram)
        if epsilon is not None:
            part = epsilon / 3
            count = max(0, noise([count], 1 / part)[0])
            fixed_sum = noise([fixed_sum], kpi.sensitivity * SCALE / part)[0]
            histogram = [max(0, v) for v in noise(histogram, 1 / part)]
        mean = kpi.clamp(fixed_sum / SCALE / count) if count > 0 else None
        released.append(
            Figures(kpi, count, mean, tuple(histogram), quartiles(kpi.edges(), histogram), epsilon=epsilon)
        )
    return released


def quantile(edges: Sequence[float], histogram: Sequence[int], q: float) -> float | None:
    """The ``q``-quantile (0..1) read from a histogram, linear within the bucket; None when empty."""
    total = sum(histogram)
    if total <= 0:
        return None
    target = q * total
    below = 0
    for i, count in enumerate(histogram):
        if count > 0 and below + count >= target:
            return edges[i] + (target - below) / count * (edges[i + 1] - edges[i])
        below += count
    return edges[-1]


def quartiles(edges: Sequence[float], histogram: Sequence[int]) -> tuple[float, float, float] | None:
    """(first quartile, median, third quartile) from a histogram; None when it is empty."""
    values = [quantile(edges, histogram, q) for q in (0.25, 0.5, 0.75)]
    if any(v is None for v in values):
        return None
    q1, q2, q3 = (float(v) for v in values if v is not None)
    return q1, q2, q3


def position(value: float, figures: Figures) -> dict[str, Any] | None:
    """Where ``value`` stands in the released distribution: bucket, percentile estimate, quartile (1-4).

    None when the KPI was withheld. The percentile counts the peers below ``value`` (linear within its
    bucket) out of all of them, the participant itself included.
    """
    if figures.histogram is None or figures.quartiles is None:
        return None
    kpi = figures.kpi
    histogram = figures.histogram
    total = sum(histogram)
    bucket = kpi.bucket_of(value)
    within = (kpi.clamp(value) - kpi.edges()[bucket]) / kpi.width
    below = sum(histogram[:bucket]) + min(1.0, within) * histogram[bucket]
    percentile = max(0.0, min(100.0, 100 * below / total)) if total else None
    q1, median, q3 = figures.quartiles
    quartile = 1 if value <= q1 else 2 if value <= median else 3 if value <= q3 else 4
    return {
        "value": value,
        "bucket": bucket,
        "percentile": None if percentile is None else round(percentile, 1),
        "quartile": quartile,
        "differenceFromMean": None if figures.mean is None else value - figures.mean,
    }


def figures_json(figures: Figures) -> dict[str, Any]:
    """The JSON form of one KPI's figures (stored by the organiser and sent to the participants)."""
    kpi = figures.kpi
    return {
        "name": kpi.name,
        "unit": kpi.unit,
        "label": kpi.label,
        "lower": kpi.lower,
        "upper": kpi.upper,
        "edges": kpi.edges(),
        "count": figures.count,
        "mean": figures.mean,
        "histogram": None if figures.histogram is None else list(figures.histogram),
        "quartiles": None if figures.quartiles is None else list(figures.quartiles),
        "withheld": figures.withheld,
        "epsilon": figures.epsilon,
    }


def figures_from_json(kpis: Sequence[Kpi], value: object) -> list[Figures]:
    """A result as a participant receives it, checked against the round's KPIs; BenchmarkError if not."""
    if not isinstance(value, list) or len(value) != len(kpis):
        raise BenchmarkError("the result must list the figures of every KPI of the round")
    figures = []
    for kpi, item in zip(kpis, value, strict=True):
        if not isinstance(item, Mapping) or item.get("name") != kpi.name:
            raise BenchmarkError(f"the result has no figures for KPI {kpi.name} in its place")
        withheld = item.get("withheld")
        if withheld is not None:
            figures.append(Figures(kpi, None, None, None, None, withheld=str(withheld)[:500]))
            continue
        histogram = item.get("histogram")
        if (
            not isinstance(histogram, list)
            or len(histogram) != kpi.buckets
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in histogram)
        ):
            raise BenchmarkError(f"the histogram of KPI {kpi.name} does not fit its {kpi.buckets} buckets")
        count, mean, epsilon = item.get("count"), item.get("mean"), item.get("epsilon")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise BenchmarkError(f"the count of KPI {kpi.name} is not a whole number")
        if mean is not None and not isinstance(mean, int | float):
            raise BenchmarkError(f"the mean of KPI {kpi.name} is not a number")
        figures.append(
            Figures(
                kpi,
                count,
                None if mean is None else float(mean),
                tuple(histogram),
                quartiles(kpi.edges(), histogram),
                epsilon=float(epsilon) if isinstance(epsilon, int | float) else None,
            )
        )
    return figures
