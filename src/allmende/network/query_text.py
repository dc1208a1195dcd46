"""What people type into the search field, turned into full-text queries that cannot fail.

The text is read as words (letters and digits; every other character separates words, as the
full-text tokenizers do), ``"quoted phrases"`` and ``OR`` between alternatives; ``AND``, ``NOT`` and
``NEAR`` are ignored, everything else is taken literally. Words match as prefixes (``sens`` finds
``Sensordaten``), all groups must match.
The result only ever holds such words, so no input can be a syntax error in FTS5 or ``to_tsquery``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKENS = re.compile(r'"([^"]*)"?|(\S+)')
_WORD = re.compile(r"[^\W_]+")
MAX_TERMS = 32


@dataclass(frozen=True)
class Term:
    """A word (matched as a prefix) or a phrase (its words in this order)."""

    words: tuple[str, ...]

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


def parse(text: str) -> list[list[Term]]:
    """The query as groups that must all match, each a list of alternatives; [] when it has no words."""
    groups: list[list[Term]] = []
    join_next = False
    count = 0
    for match in _TOKENS.finditer(text):
        phrase, bare = match.group(1), match.group(2)
        if bare == "OR":
            join_next = bool(groups)
            continue
        if bare in ("AND", "NOT", "NEAR"):  # other engines' operators: the words alone decide
            continue
        words = [word.lower() for word in _WORD.findall(phrase if phrase is not None else bare)]
        if not words:
            continue
        # Without quotes, "c++" or "e-mail" are several words that must all match, as the index saw them.
        terms = [Term(tuple(words))] if phrase is not None else [Term((word,)) for word in words]
        for position, term in enumerate(terms):
            if count >= MAX_TERMS:
                return groups
            count += 1
            if join_next and position == 0:
                groups[-1].append(term)
            else:
                groups.append([term])
        join_next = False
    return groups


def fts5_query(groups: list[list[Term]]) -> str:
    """The SQLite FTS5 MATCH expression of parsed groups."""

    def term(t: Term) -> str:
        return '"' + " ".join(t.words) + '"' + ("" if t.is_phrase else "*")

    parts = [term(g[0]) if len(g) == 1 else "(" + " OR ".join(map(term, g)) + ")" for g in groups]
    return " AND ".join(parts)


def tsquery(groups: list[list[Term]]) -> str:
    """The PostgreSQL ``to_tsquery('simple', ...)`` expression of parsed groups."""

    def term(t: Term) -> str:
        return "(" + " <-> ".join(t.words) + ")" if t.is_phrase else t.words[0] + ":*"

    return " & ".join("(" + " | ".join(map(term, g)) + ")" for g in groups)
