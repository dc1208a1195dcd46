"""ISO 8601 durations with calendar months and years."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allmende.policy.durations import parse_duration

START = datetime(2024, 1, 31, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "end"),
    [
        ("P1M", datetime(2024, 2, 29, 12, 0, tzinfo=UTC)),  # clamped to the month's last day (leap year)
        ("P12M", datetime(2025, 1, 31, 12, 0, tzinfo=UTC)),
        ("P1Y", datetime(2025, 1, 31, 12, 0, tzinfo=UTC)),
        ("P2W", datetime(2024, 2, 14, 12, 0, tzinfo=UTC)),
        ("PT1H", datetime(2024, 1, 31, 13, 0, tzinfo=UTC)),
        ("P1Y2M3DT4H5M6.5S", datetime(2025, 4, 3, 16, 5, 6, 500000, tzinfo=UTC)),
        ("PT0,5S", datetime(2024, 1, 31, 12, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_end_after_uses_calendar_months(text: str, end: datetime) -> None:
    assert parse_duration(text).end_after(START) == end


@pytest.mark.parametrize("text", ["", "P", "PT", "12M", "P-1M", "P1.5M", "-P1D", "P1H", "P1DT"])
def test_malformed_durations_are_rejected_with_the_text(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601 duration"):
        parse_duration(text)


def test_non_text_is_rejected() -> None:
    with pytest.raises(ValueError, match="must be text"):
        parse_duration(12)  # type: ignore[arg-type]


def test_parts_keep_months_and_years_apart() -> None:
    assert parse_duration("P12M").parts() == (("months", 12),)
    assert parse_duration("P1Y6M").parts() == (("years", 1), ("months", 6))
    assert parse_duration("P1DT2H").parts() == (("days", 1), ("hours", 2))


@given(
    years=st.integers(0, 30),
    months=st.integers(0, 40),
    days=st.integers(0, 400),
    start=st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
)
def test_end_after_is_monotonic_and_never_before_start(
    years: int, months: int, days: int, start: datetime
) -> None:
    shorter = parse_duration(f"P{years}Y{months}M")
    longer = parse_duration(f"P{years}Y{months}M{days}D")
    assert start <= shorter.end_after(start) <= longer.end_after(start)
    assert longer.end_after(start) - shorter.end_after(start) == timedelta(days=days)
