"""ISO 8601 / xsd:duration values (``P1Y``, ``P12M``, ``P2W``, ``PT1H30M``, ``P1DT0.5S``).

Years and months are calendar units: adding ``P1M`` to 31 January gives the last day of February.
That is why a duration is compared only relative to a start moment (``end_after``), never as seconds.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

_DURATION = re.compile(
    r"P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?"
)


@dataclass(frozen=True)
class Duration:
    """A non-negative duration: calendar years and months, and an exact time span (weeks, days, time)."""

    years: int
    months: int
    span: timedelta

    def end_after(self, start: datetime) -> datetime:
        """The moment this duration after ``start`` (years and months first, then days and time)."""
        month_index = start.month - 1 + self.years * 12 + self.months
        year = start.year + month_index // 12
        month = month_index % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return start.replace(year=year, month=month, day=day) + self.span

    def parts(self) -> tuple[tuple[str, int], ...]:
        """The non-zero parts as (unit, amount) pairs; units: years, months, days, hours, minutes, seconds."""
        minutes, seconds = divmod(int(self.span.total_seconds()), 60)
        hours, minutes = divmod(minutes, 60)
        days, hours = divmod(hours, 24)
        parts = (("years", self.years), ("months", self.months), ("days", days), ("hours", hours),
                 ("minutes", minutes), ("seconds", seconds))  # fmt: skip
        return tuple((unit, amount) for unit, amount in parts if amount)


def parse_duration(text: str) -> Duration:
    """Parse an ISO 8601 duration such as ``P1Y2M10DT2H30M``.

    Raises ValueError with the offending text on malformed or negative input.
    """
    if not isinstance(text, str):
        raise ValueError(f"a duration must be text like 'P12M', got {text!r}")
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an ISO 8601 duration like 'P12M', 'P1Y' or 'PT1H'")
    part = {name: value or "0" for name, value in match.groupdict().items()}
    seconds = Decimal(part["seconds"].replace(",", "."))
    span = timedelta(
        weeks=int(part["weeks"]),
        days=int(part["days"]),
        hours=int(part["hours"]),
        minutes=int(part["minutes"]),
        seconds=float(seconds),
    )
    return Duration(years=int(part["years"]), months=int(part["months"]), span=span)
