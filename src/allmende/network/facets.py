"""Filter values as full-text tokens, so that a search with filters is one full-text query.

Every filter value of a federated dataset (publisher, keyword, theme, format, template, sector,
region; compared in lower case) becomes one token in the dataset's ``facets`` column: the
private-use character U+E000 and 15 hex digits of SHA-256 over kind and value. SQLite's FTS5 index then
intersects a query's words and its filters in one pass, and ranks only the datasets that pass both.
No typed word can match such a token: the query parser keeps only letters and digits
(:mod:`allmende.network.query_text`), and U+E000 is neither, so text queries need no column filter
(which would cost FTS5 a position check per match).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

MARK = "\ue000"  # a private-use character: a token character for FTS5, never part of a parsed word


def facet_token(kind: str, key: str) -> str:
    """The token of one filter value (``key`` already in lower case)."""
    return MARK + hashlib.sha256(f"{kind}\0{key}".encode()).hexdigest()[:15]


def facet_text(pairs: Iterable[tuple[str, str]]) -> str:
    """The ``facets`` column of a dataset with these (kind, key) filter values."""
    return " ".join(sorted({facet_token(kind, key) for kind, key in pairs}))
