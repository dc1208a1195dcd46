"""Catalog paging with RFC 8288 ``Link`` headers, as DSP 2025-1 allows for catalog responses."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


class PagingError(ValueError):
    """Bad ``offset`` / ``limit`` query parameters."""


def parse_paging(
    query: Mapping[str, str], default_limit: int = 100, max_limit: int = 1000
) -> tuple[int, int]:
    """Return ``(offset, limit)`` from query parameters; absent values default to ``0`` / ``default_limit``.

    Raises PagingError for a value that is not a decimal integer, a negative offset, or a limit outside
    ``1..max_limit``.
    """
    if not 1 <= default_limit <= max_limit:
        raise PagingError(f"default_limit {default_limit} must lie in 1..max_limit ({max_limit})")
    offset = _integer(query, "offset", 0)
    limit = _integer(query, "limit", default_limit)
    if offset < 0:
        raise PagingError(f"offset must be >= 0, got {offset}")
    if not 1 <= limit <= max_limit:
        raise PagingError(f"limit must lie in 1..{max_limit}, got {limit}")
    return offset, limit


def _integer(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not text.lstrip("-").isdigit() or not text.isascii():
        raise PagingError(f"{name} must be an integer, got {raw!r}")
    return int(text)


def page_url(base_url: str, offset: int, limit: int) -> str:
    """``base_url`` with its ``offset`` and ``limit`` query parameters set (other parameters kept)."""
    parts = urlsplit(base_url)
    kept = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key not in ("offset", "limit")
    ]
    query = urlencode([*kept, ("offset", str(offset)), ("limit", str(limit))])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def page_links(base_url: str, offset: int, limit: int, total: int) -> str | None:
    """The ``Link`` header value for the page at ``offset`` of ``limit`` items out of ``total``.

    Contains ``rel="prev"`` unless this is the first page and ``rel="next"`` unless it is the last; ``None``
    when everything fits on this page. Raises PagingError for negative numbers or a zero limit.
    """
    if offset < 0 or limit < 1 or total < 0:
        raise PagingError(f"need offset >= 0, limit >= 1, total >= 0; got {offset}, {limit}, {total}")
    links: list[str] = []
    if offset > 0:
        previous = max(0, min(offset, total) - limit)
        links.append(f'<{page_url(base_url, previous, limit)}>; rel="prev"')
    if offset + limit < total:
        links.append(f'<{page_url(base_url, offset + limit, limit)}>; rel="next"')
    return ", ".join(links) or None
