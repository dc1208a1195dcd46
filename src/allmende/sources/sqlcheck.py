"""A conservative check that an owner's SQL is one read-only query (a SELECT, or WITH ... SELECT).

This is a first line only: the query also runs in a read-only connection or transaction (see
``allmende.sources.sql``), which is what stops a write hidden in a CTE on the databases that allow
those. Anything unusual is refused rather than parsed: a ``;`` other than one at the end (even inside
a string literal) and SQL comments, which could hide the start of the statement.
"""

from __future__ import annotations

import re

from allmende.sources.errors import SourceConfigError

MAX_QUERY_CHARS = 100_000
_START = re.compile(r"(?:SELECT|WITH)\b", re.IGNORECASE)


def check_select(query: str) -> str:
    """``query`` without surrounding blanks and a trailing ``;``; SourceConfigError if it may not run."""
    text = query.strip()
    if text.endswith(";"):
        text = text[:-1].rstrip()
    if not text:
        raise SourceConfigError("sql_query: the query is empty")
    if len(text) > MAX_QUERY_CHARS:
        raise SourceConfigError(f"sql_query: the query is longer than {MAX_QUERY_CHARS} characters")
    if ";" in text:
        raise SourceConfigError("sql_query: only a single statement is allowed (';' only at the end)")
    if "--" in text or "/*" in text or "\0" in text:
        raise SourceConfigError("sql_query: comments and NUL characters are not allowed in the query")
    if _START.match(text) is None:
        raise SourceConfigError("sql_query: the query must be a SELECT (or WITH ... SELECT)")
    return text
