"""A bar chart of bytes shared and received per day, as SVG geometry (pure; the template draws it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # "shared" | "received"
    day: date
    value: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    days: list[date]
    maximum: int
    rows: list[tuple[date, int, int]]  # day, shared, received (the table the chart shows)


def daily_chart(
    shared: dict[date, int], received: dict[date, int], today: date, days: int = 30, width: int = 600
) -> Chart:
    """Bars for the last ``days`` days up to ``today``; the tallest bar fills the plot height."""
    height, top, bottom = 160, 10, 20
    plot = height - top - bottom
    span = [today - timedelta(days=days - 1 - i) for i in range(days)]
    maximum = max([shared.get(d, 0) for d in span] + [received.get(d, 0) for d in span] + [1])
    slot = width / days
    bar = slot * 0.4
    bars: list[Bar] = []
    for index, day in enumerate(span):
        for offset, kind, values in ((0.1, "shared", shared), (0.5, "received", received)):
            value = values.get(day, 0)
            h = plot * value / maximum
            bars.append(Bar(index * slot + offset * slot, top + plot - h, bar, h, kind, day, value))
    rows = [(d, shared.get(d, 0), received.get(d, 0)) for d in span if shared.get(d) or received.get(d)]
    return Chart(width, height, bars, span, maximum, rows)
