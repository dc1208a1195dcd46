"""Differential-privacy noise for aggregate results (OpenDP) and the per-consumer privacy budget.

Noise is Laplace noise calibrated as ``scale = sensitivity / ε`` (ε-differential privacy per column),
drawn by OpenDP: the discrete Laplace mechanism for integer counts, the continuous one (OpenDP's
floating-point-safe sampler) for sums and means. Sensitivities, for one record added or removed:

- ``count``: 1.
- ``sum`` of values clamped to ``[lower, upper]``: ``max(|lower|, |upper|)``.
- ``mean`` of clamped values over a group of ``n`` records: ``(upper - lower) / n``, with ``n`` the group
  size the result states (it is released too, so treated as public).

The job must clamp its values to the stated bounds (SQL: ``least(greatest(x, lower), upper)``); the gate
cannot see the records and so cannot check that. A request's ε is split evenly over its noised columns
(sequential composition); each record is assumed to fall into one group (disjoint ``GROUP BY`` groups), so
the rows compose in parallel and the whole release costs the request's ε.

:func:`check_budget` is the pure ledger rule: ε already spent by a consumer plus the ε requested must
stay within the consumer's budget. The lead's service persists what was spent.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Statistic = Literal["count", "sum", "mean"]
STATISTICS: tuple[Statistic, ...] = ("count", "sum", "mean")
_EPSILON_SLACK = 1e-9


class PrivacyError(ValueError):
    """A noise request that cannot be honoured (bad bounds, bad ε); the message says why."""


@dataclass(frozen=True)
class NoiseColumn:
    """One result column to noise: which statistic it holds and, for sums and means, its clamp bounds."""

    name: str
    statistic: Statistic
    lower: float = 0.0
    upper: float = 0.0

    def __post_init__(self) -> None:
        if self.statistic not in STATISTICS:
            raise PrivacyError(
                f"unknown statistic {self.statistic!r}; expected one of {', '.join(STATISTICS)}"
            )
        finite = math.isfinite(self.lower) and math.isfinite(self.upper)
        if self.statistic != "count" and (not finite or self.lower > self.upper):
            raise PrivacyError(f"column {self.name!r}: clamp bounds must be finite with lower <= upper")


@dataclass(frozen=True)
class PrivacyRequest:
    """ε for the whole release and the columns that get noise."""

    epsilon: float
    columns: tuple[NoiseColumn, ...]

    def __post_init__(self) -> None:
        if not (math.isfinite(self.epsilon) and self.epsilon > 0):
            raise PrivacyError("epsilon must be a positive number")
        if not self.columns:
            raise PrivacyError("a privacy request must name at least one column to noise")
        names = [column.name for column in self.columns]
        if len(set(names)) != len(names):
            raise PrivacyError("a column is named twice in the privacy request")

    @property
    def epsilon_per_column(self) -> float:
        return self.epsilon / len(self.columns)


def sensitivity(column: NoiseColumn, group_size: int | None = None) -> float:
    """How much one record can change the column's value in one group (see the module text)."""
    if column.statistic == "count":
        return 1.0
    if column.statistic == "sum":
        return max(abs(column.lower), abs(column.upper))
    if group_size is None or group_size <= 0:
        raise PrivacyError(f"column {column.name!r}: a mean needs a positive group size to be noised")
    return (column.upper - column.lower) / group_size


def noise_scale(column: NoiseColumn, epsilon: float, group_size: int | None = None) -> float:
    """The Laplace scale for one value: sensitivity / ε."""
    return sensitivity(column, group_size) / epsilon


@dataclass(frozen=True)
class BudgetDecision:
    """Whether a release may spend ``requested`` ε, and what is left (after it, if allowed)."""

    allowed: bool
    remaining: float
    reason: str = ""


def check_budget(spent: float, requested: float, budget: float) -> BudgetDecision:
    """The ledger rule: ``spent + requested <= budget`` (all ε). Pure; the caller records the spend."""
    for name, value in (("spent", spent), ("requested", requested), ("budget", budget)):
        if not math.isfinite(value) or value < 0:
            raise PrivacyError(f"privacy {name} must be a non-negative number")
    left = max(0.0, budget - spent)
    if spent + requested > budget + _EPSILON_SLACK:
        return BudgetDecision(
            False, left, f"the privacy budget allows ε {left:g} more; this release asks for ε {requested:g}"
        )
    return BudgetDecision(True, max(0.0, left - requested))


_samplers: dict[tuple[str, float], Callable[[Any], Any]] = {}
_samplers_lock = threading.Lock()


def _sampler(kind: Literal["int", "float"], scale: float) -> Callable[[Any], Any]:
    key = (kind, scale)
    with _samplers_lock:
        found = _samplers.get(key)
        if found is None:
            import opendp.prelude as dp

            dp.enable_features("contrib")
            if kind == "int":
                found = dp.m.make_laplace(dp.atom_domain(T=int), dp.absolute_distance(T=int), scale=scale)
            else:
                found = dp.m.make_laplace(
                    dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float), scale=scale
                )
            if len(_samplers) > 1024:
                _samplers.clear()
            _samplers[key] = found
        return found


def noisy_count(value: int, epsilon: float) -> int:
    """A count plus discrete Laplace noise of scale 1/ε, never below 0 (post-processing)."""
    return max(0, int(_sampler("int", 1.0 / epsilon)(int(value))))


def noisy_value(value: float, scale: float, lower: float | None = None, upper: float | None = None) -> float:
    """A value plus Laplace noise of ``scale``, clamped to ``[lower, upper]`` where given."""
    noised = float(_sampler("float", scale)(float(value))) if scale > 0 else float(value)
    if lower is not None:
        noised = max(lower, noised)
    if upper is not None:
        noised = min(upper, noised)
    return noised
