"""What the benchmark pages show: the released figures of each KPI, a participant's standing among its
peers, and the histogram as SVG geometry (pure: the templates draw it and show the same as a table).

The figures come from the benchmarking domain (``release.figures_from_json`` checks them against the
round's KPIs, ``release.position`` says where a value stands); nothing here recomputes them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_percent

from allmende.benchmarking.errors import BenchmarkError
from allmende.benchmarking.kpis import Kpi, kpis_from_json
from allmende.benchmarking.release import Figures, figures_from_json, position
from allmende.clock import parse_datetime
from allmende.web.i18n import Formats

MAX_TICKS = 10


@dataclass(frozen=True)
class HistogramBar:
    """One bucket ``[low, high)`` of the released histogram; ``mine`` marks the viewer's own bucket."""

    x: float
    y: float
    width: float
    height: float
    low: float
    high: float
    count: int
    mine: bool


@dataclass(frozen=True)
class HistogramChart:
    """A bar per bucket, value ticks along the axis, and the x of the viewer's own value (if any)."""

    width: int
    height: int
    baseline: float
    top: float
    bars: list[HistogramBar]
    ticks: list[tuple[float, float]]  # (x, value)
    marker: float | None
    maximum: int


def histogram_chart(
    kpi: Kpi, histogram: Sequence[int], own: float | None, width: int = 600
) -> HistogramChart:
    """Bars of equal width for the buckets of ``kpi``; the tallest bar fills the plot height."""
    height, top, bottom, side = 214, 40.0, 28.0, 28.0
    baseline = height - bottom
    plot_height = baseline - top
    plot_width = width - 2 * side
    slot = plot_width / len(histogram)
    maximum = max([*histogram, 1])
    edges = kpi.edges()
    mine = kpi.bucket_of(own) if own is not None else None
    bars = []
    for index, count in enumerate(histogram):
        bar_height = plot_height * count / maximum
        bars.append(
            HistogramBar(
                x=side + index * slot + 0.08 * slot,
                y=baseline - bar_height,
                width=0.84 * slot,
                height=bar_height,
                low=edges[index],
                high=edges[index + 1],
                count=count,
                mine=index == mine,
            )
        )
    step = math.ceil(len(histogram) / MAX_TICKS)
    shown = sorted({*range(0, len(edges), step), len(edges) - 1})
    ticks = [(side + i * slot, edges[i]) for i in shown]
    marker = None
    if own is not None:
        marker = side + (kpi.clamp(own) - kpi.lower) / (kpi.upper - kpi.lower) * plot_width
    return HistogramChart(width, height, baseline, top, bars, ticks, marker, maximum)


@dataclass(frozen=True)
class KpiFigures:
    """One KPI of a released round: its figures and, on a participant's node, where its value stands.

    ``standing`` is ``release.position``'s answer (bucket, percentile, quartile, differenceFromMean);
    ``own`` is None where the viewer gave no value (or is the organiser).
    """

    kpi: Kpi
    figures: Figures
    own: float | None
    standing: dict[str, Any] | None
    chart: HistogramChart | None

    @property
    def title(self) -> str:
        return self.kpi.label or self.kpi.name


def released_figures(
    kpis_json: object, result: object, own_values: Mapping[str, Any] | None = None
) -> list[KpiFigures]:
    """The figures of every KPI of a released ``result``; BenchmarkError when it does not fit the KPIs."""
    kpis = kpis_from_json(kpis_json)
    shown: list[KpiFigures] = []
    for figures in figures_from_json(kpis, result):
        value = (own_values or {}).get(figures.kpi.name)
        own = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        standing = position(own, figures) if own is not None else None
        chart = None
        if figures.histogram is not None:
            chart = histogram_chart(figures.kpi, figures.histogram, own if standing else None)
        shown.append(KpiFigures(figures.kpi, figures, own, standing, chart))
    return shown


def kpis_of(kpis_json: object) -> tuple[Kpi, ...]:
    """A round's KPIs as stored; none when they cannot be read (shown as an empty list, never a crash)."""
    try:
        return kpis_from_json(kpis_json)
    except BenchmarkError:
        return ()


def percent(value: float | None, formats: Formats) -> str:
    """``40 %`` (German) or ``40%`` (English), rounded to a whole percent."""
    if value is None:
        return ""
    return format_percent(round(value) / 100, locale=formats.locale)


def with_unit(value: float | None, unit: str, formats: Formats) -> str:
    """A figure with its unit, e.g. ``71,5 %`` or ``1,2 kWh/part``."""
    if value is None:
        return ""
    number = formats.number(round(value, 4))
    return f"{number} {unit}".strip()


def parse_local(text: str, zone: ZoneInfo) -> datetime | None:
    """A ``datetime-local`` field's value (``2026-12-01T12:00``) in the node's time zone; None if not one."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def local_field(moment: datetime, zone: ZoneInfo) -> str:
    """The value of a ``datetime-local`` field for ``moment`` in the node's time zone (minutes)."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def default_deadline(now: datetime, zone: ZoneInfo, days: int = 14) -> str:
    """Joining closes by default in ``days`` days, at noon local time."""
    local = (now + timedelta(days=days)).astimezone(zone)
    return local.replace(hour=12, minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M")


def when_text(text: object, formats: Formats) -> str:
    """An ISO 8601 moment as the organiser published it, shown in the node's time zone."""
    if not isinstance(text, str):
        return ""
    try:
        return formats.when(parse_datetime(text))
    except ValueError:
        return text
