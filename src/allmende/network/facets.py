"""Filter values as full-text tokens, so that a search with filters is one full-text query.

Every filter value of a federated dataset (publisher, keyword, theme, format, template, sector,
region; compared in lower case) becomes one token in the dataset's ``facets`` column: ``f`` and 15
hex digits of SHA-256 over kind and value. SQLite's FTS5 index then intersects a query's words and
its filters in one pass, and ranks only the datasets that pass both. User text never reaches this
column: text queries are restricted to the other columns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def facet_token(kind: str, key: str) -> str:
    """The token of one filter value (``key`` already in lower case)."""
    return "f" + hashlib.sha256(f"{kind}\0{key}".encode()).hexdigest()[:15]


def facet_text(pairs: Iterable[tuple[str, str]]) -> str:
    """The ``facets`` column of a dataset with these (kind, key) filter values."""
    return " ".join(sorted({facet_token(kind, key) for kind, key in pairs}))
