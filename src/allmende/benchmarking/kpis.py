"""KPIs of a round and the vector a participant contributes (pure).

A KPI has bounds ``[lower, upper]`` and ``buckets`` equal-width histogram buckets between them.
Values are fixed-point numbers: ``round(value * SCALE)`` after clamping to the bounds, so one
participant changes a KPI's sum by at most ``max(|lower|, |upper|)``. Per KPI a participant
contributes ``[fixed-point value, 1 (the count), one-hot bucket vector]`` — or zeros when it gives
no value for that KPI — all as field elements, so every element can be added up under sharing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from allmende.benchmarking.errors import BenchmarkError
from allmende.benchmarking.field import PRIME, signed

SCALE = 10_000  # fixed-point step 0.0001
MAX_ABS_BOUND = 1e12
MAX_BUCKETS = 100
MAX_KPIS = 20
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,59}")


@dataclass(frozen=True)
class Kpi:
    """One key performance indicator of a round."""

    name: str
    unit: str
    lower: float
    upper: float
    buckets: int
    label: str = ""

    @property
    def width(self) -> float:
        return (self.upper - self.lower) / self.buckets

    def edges(self) -> list[float]:
        """The bucket boundaries, ``buckets + 1`` of them from ``lower`` to ``upper``."""
        return [self.lower + i * self.width for i in range(self.buckets)] + [self.upper]

    def clamp(self, value: float) -> float:
        return min(self.upper, max(self.lower, value))

    def bucket_of(self, value: float) -> int:
        """The histogram bucket of ``value`` (clamped; ``upper`` falls into the last bucket)."""
        position = (self.clamp(value) - self.lower) / self.width
        return min(self.buckets - 1, math.floor(position))

    def fixed(self, value: float) -> int:
        """The fixed-point integer of ``value`` (clamped)."""
        return round(self.clamp(value) * SCALE)

    @property
    def sensitivity(self) -> float:
        """How much one participant can move the KPI's sum (add/remove one participant)."""
        return max(abs(self.lower), abs(self.upper))


def kpi_from_json(value: object) -> Kpi:
    """A KPI from its JSON form; raises BenchmarkError saying what is wrong."""
    if not isinstance(value, dict):
        raise BenchmarkError("a KPI must be an object with name, unit, lower, upper and buckets")
    name = value.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise BenchmarkError(f"KPI name {name!r} must be 1-60 letters, digits, '_', '.' or '-'")
    unit, label = value.get("unit", ""), value.get("label", "")
    if not isinstance(unit, str) or len(unit) > 40:
        raise BenchmarkError(f"KPI {name}: the unit must be a text of at most 40 characters")
    if not isinstance(label, str) or len(label) > 200:
        raise BenchmarkError(f"KPI {name}: the label must be a text of at most 200 characters")
    lower, upper = value.get("lower"), value.get("upper")
    for bound in (lower, upper):
        if not _is_number(bound) or abs(float(bound)) > MAX_ABS_BOUND:  # type: ignore[arg-type]
            raise BenchmarkError(f"KPI {name}: bounds must be finite numbers within ±{MAX_ABS_BOUND:g}")
    assert isinstance(lower, int | float) and isinstance(upper, int | float)
    if not float(lower) < float(upper):
        raise BenchmarkError(f"KPI {name}: the lower bound must be below the upper bound")
    buckets = value.get("buckets", 10)
    if not isinstance(buckets, int) or isinstance(buckets, bool) or not 1 <= buckets <= MAX_BUCKETS:
        raise BenchmarkError(f"KPI {name}: buckets must be a whole number from 1 to {MAX_BUCKETS}")
    return Kpi(name, unit, float(lower), float(upper), buckets, label)


def kpis_from_json(value: object) -> tuple[Kpi, ...]:
    """A round's KPIs (1 to MAX_KPIS, unique names)."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_KPIS:
        raise BenchmarkError(f"a round needs 1 to {MAX_KPIS} KPIs")
    kpis = tuple(kpi_from_json(item) for item in value)
    if len({kpi.name for kpi in kpis}) != len(kpis):
        raise BenchmarkError("KPI names must be unique within a round")
    return kpis


def kpi_json(kpi: Kpi) -> dict[str, Any]:
    """The JSON form of a KPI (as stored and as sent to participants)."""
    return {
        "name": kpi.name,
        "unit": kpi.unit,
        "label": kpi.label,
        "lower": kpi.lower,
        "upper": kpi.upper,
        "buckets": kpi.buckets,
    }


def check_values(kpis: Sequence[Kpi], values: Mapping[str, object]) -> dict[str, float]:
    """A participant's values, checked: known KPIs, numbers within the bounds, at least one."""
    known = {kpi.name: kpi for kpi in kpis}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise BenchmarkError(f"the round has no KPI {', '.join(unknown)}")
    checked: dict[str, float] = {}
    for name, value in values.items():
        if value is None:
            continue
        if not _is_number(value):
            raise BenchmarkError(f"the value of {name} must be a finite number")
        kpi = known[name]
        number = float(value)  # type: ignore[arg-type]
        if not kpi.lower <= number <= kpi.upper:
            raise BenchmarkError(f"the value of {name} ({number:g}) is outside {kpi.lower:g}..{kpi.upper:g}")
        checked[name] = number
    if not checked:
        raise BenchmarkError("give a value for at least one KPI")
    return checked


def vector_length(kpis: Sequence[Kpi]) -> int:
    """The number of field elements a participant contributes."""
    return sum(2 + kpi.buckets for kpi in kpis)


def contribution(kpis: Sequence[Kpi], values: Mapping[str, float]) -> list[int]:
    """The field vector of one participant: per KPI ``[fixed value, 1, one-hot bucket]`` or zeros."""
    vector: list[int] = []
    for kpi in kpis:
        value = values.get(kpi.name)
        if value is None:
            vector.extend([0] * (2 + kpi.buckets))
            continue
        one_hot = [0] * kpi.buckets
        one_hot[kpi.bucket_of(value)] = 1
        vector.extend([kpi.fixed(value) % PRIME, 1, *one_hot])
    return vector


@dataclass(frozen=True)
class KpiTotals:
    """The reconstructed totals of one KPI over the contributing participants."""

    kpi: Kpi
    count: int
    fixed_sum: int
    histogram: tuple[int, ...]

    @property
    def total(self) -> float:
        return self.fixed_sum / SCALE


def split_totals(kpis: Sequence[Kpi], totals: Sequence[int], contributors: int) -> list[KpiTotals]:
    """Per-KPI totals from the reconstructed vector; raises BenchmarkError when they cannot be honest.

    Honest contributions give counts within ``0..contributors``, a histogram that adds up to the count
    and a sum within ``count × bounds``; anything else means a malformed contribution.
    """
    if len(totals) != vector_length(kpis):
        raise BenchmarkError("the reconstructed totals have the wrong length")
    result: list[KpiTotals] = []
    offset = 0
    for kpi in kpis:
        fixed_sum, count = signed(totals[offset]), signed(totals[offset + 1])
        histogram = tuple(signed(v) for v in totals[offset + 2 : offset + 2 + kpi.buckets])
        offset += 2 + kpi.buckets
        honest = (
            0 <= count <= contributors
            and all(0 <= v <= count for v in histogram)
            and sum(histogram) == count
            and count * round(kpi.lower * SCALE) <= fixed_sum <= count * round(kpi.upper * SCALE)
        )
        if not honest:
            raise BenchmarkError(
                f"the totals of KPI {kpi.name} are inconsistent: a participant contributed a malformed vector"
            )
        result.append(KpiTotals(kpi, count, fixed_sum, histogram))
    return result


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
