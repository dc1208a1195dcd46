"""Parsing RFC 9110 single byte ranges."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allmende.dataplane.ranges import ByteRange, RangeNotSatisfiable, parse_range, range_applies


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=100-", ByteRange(100, 999)),
        ("bytes=-500", ByteRange(500, 999)),
        ("bytes=999-999", ByteRange(999, 999)),
        ("bytes=0-5000", ByteRange(0, 999)),  # last position clamped
        ("bytes=-5000", ByteRange(0, 999)),  # suffix longer than the file: all of it
        ("Bytes = 10-19 ", ByteRange(10, 19)),  # unit is case-insensitive, whitespace allowed
        ("bytes=10-19,", ByteRange(10, 19)),  # empty list elements are ignored
    ],
)
def test_single_ranges(header: str, expected: ByteRange) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize(
    "header",
    [
        "bytes=0-1,5-6",  # several ranges: served whole
        "items=0-9",  # unknown unit
        "bytes=9-3",  # last before first: invalid
        "bytes=x-",
        "bytes=-",
        "bytes=",
        "bytes 0-9",
        "bytes=+1-2",
        "bytes=٣-٤",  # non-ASCII digits
        "",
    ],
)
def test_headers_to_ignore_give_none(header: str) -> None:
    assert parse_range(header, 1000) is None


def test_no_header_gives_none() -> None:
    assert parse_range(None, 1000) is None


@pytest.mark.parametrize(
    ("header", "size"),
    [("bytes=1000-", 1000), ("bytes=5000-6000", 1000), ("bytes=-0", 1000), ("bytes=0-", 0), ("bytes=-5", 0)],
)
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as caught:
        parse_range(header, size)
    assert caught.value.size == size
    assert caught.value.content_range == f"bytes */{size}"


def test_byte_range_reports_length_and_content_range() -> None:
    byte_range = ByteRange(0, 99)
    assert byte_range.length == 100
    assert byte_range.content_range(1000) == "bytes 0-99/1000"
    with pytest.raises(ValueError, match="outside"):
        byte_range.content_range(99)


@pytest.mark.parametrize(("start", "end"), [(-1, 5), (5, 4)])
def test_byte_range_rejects_impossible_bounds(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="invalid byte range"):
        ByteRange(start, end)


def test_negative_size_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        parse_range("bytes=0-1", -1)


@st.composite
def sized_ranges(draw: st.DrawFn) -> tuple[int, str, int, int]:
    """A size, a satisfiable header of one of the three forms, and the bytes it must select."""
    size = draw(st.integers(min_value=1, max_value=10**12))
    form = draw(st.sampled_from(["closed", "open", "suffix"]))
    if form == "suffix":
        suffix = draw(st.integers(min_value=1, max_value=2 * size))
        return size, f"bytes=-{suffix}", max(size - suffix, 0), size - 1
    start = draw(st.integers(min_value=0, max_value=size - 1))
    if form == "open":
        return size, f"bytes={start}-", start, size - 1
    last = draw(st.integers(min_value=start, max_value=2 * size))
    return size, f"bytes={start}-{last}", start, min(last, size - 1)


@given(sized_ranges())
def test_content_range_and_length_agree(case: tuple[int, str, int, int]) -> None:
    size, header, start, end = case
    byte_range = parse_range(header, size)
    assert byte_range == ByteRange(start, end)
    assert byte_range.content_range(size) == f"bytes {start}-{end}/{size}"
    assert 1 <= byte_range.length <= size
    assert byte_range.start + byte_range.length - 1 == byte_range.end_inclusive < size


@pytest.mark.parametrize(
    ("if_range", "etag", "applies"),
    [
        (None, None, True),
        (None, '"a"', True),
        ('"a"', '"a"', True),
        (' "a" ', '"a"', True),
        ('"b"', '"a"', False),
        ('W/"a"', '"a"', False),
        ("Wed, 21 Oct 2015 07:28:00 GMT", '"a"', False),
        ('"a"', None, False),
    ],
)
def test_if_range_only_matches_the_strong_etag(if_range: str | None, etag: str | None, applies: bool) -> None:
    assert range_applies(if_range, etag) is applies
