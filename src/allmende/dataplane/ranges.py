"""Single byte ranges from an RFC 9110 ``Range`` header (pure logic, no I/O).

Decisions, all allowed by RFC 9110 §14.2:

* Only one range is served. A header with several ranges, an unknown unit (not ``bytes``) or
  malformed syntax (``bytes=9-3``, ``bytes=x-``) is *ignored*: :func:`parse_range` returns None and
  the server answers 200 with the whole representation.
* A well-formed single range that selects nothing (first byte at or beyond the end, a suffix of
  length 0, any range of an empty file) raises :class:`RangeNotSatisfiable`, to be answered with 416
  and ``Content-Range: bytes */SIZE``.
* A last position beyond the end is clamped to the last byte; a suffix longer than the file selects
  the whole file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPEC = re.compile(r"(?:([0-9]+)-([0-9]*)|-([0-9]+))", re.ASCII)


@dataclass(frozen=True)
class ByteRange:
    """The bytes ``start`` .. ``end_inclusive`` of a representation (both within it)."""

    start: int
    end_inclusive: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end_inclusive < self.start:
            raise ValueError(f"invalid byte range {self.start}-{self.end_inclusive}")

    @property
    def length(self) -> int:
        """How many bytes the range holds."""
        return self.end_inclusive - self.start + 1

    def content_range(self, size: int) -> str:
        """The ``Content-Range`` value of a 206 answer, e.g. ``bytes 0-99/1000``."""
        if self.end_inclusive >= size:
            raise ValueError(f"range {self.start}-{self.end_inclusive} lies outside {size} bytes")
        return f"bytes {self.start}-{self.end_inclusive}/{size}"


class RangeNotSatisfiable(Exception):
    """The requested range selects no byte of a representation of ``size`` bytes (HTTP 416)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"range not satisfiable for a representation of {size} bytes")
        self.size = size

    @property
    def content_range(self) -> str:
        """The ``Content-Range`` value of the 416 answer: ``bytes */SIZE``."""
        return f"bytes */{self.size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single range that ``header`` asks for in a representation of ``size`` bytes.

    None means "serve everything with 200": no header, or one to ignore (see the module notes).
    Raises :class:`RangeNotSatisfiable` for a well-formed range that selects no byte.
    """
    if size < 0:
        raise ValueError(f"size must not be negative, got {size}")
    if header is None:
        return None
    unit, sep, range_set = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    specs = [part.strip() for part in range_set.split(",") if part.strip()]
    if len(specs) != 1:
        return None
    match = _SPEC.fullmatch(specs[0])
    if match is None:
        return None
    first, last, suffix = match.groups()
    if suffix is not None:
        suffix_length = int(suffix)
        if suffix_length == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return ByteRange(max(size - suffix_length, 0), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable(size)
    end = size - 1 if not last else min(int(last), size - 1)
    return ByteRange(start, end)


def range_applies(if_range: str | None, strong_etag: str | None) -> bool:
    """Whether a ``Range`` may be honoured given the request's ``If-Range`` (RFC 9110 §13.1.5).

    Without ``If-Range`` it may. With one, only when it is exactly our strong ETag: a weak tag or an
    HTTP date never matches (no ``Last-Modified`` is sent), so the whole representation is sent.
    """
    if if_range is None:
        return True
    candidate = if_range.strip()
    return strong_etag is not None and not candidate.startswith("W/") and candidate == strong_etag
