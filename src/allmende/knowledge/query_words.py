"""A keyword query's words and what each of them matches in the index (pure).

Each word of the need (function words dropped, unless nothing else remains) matches any of: its stems
as prefixes ("Förder" finds "Förderprogramm"; stems of fewer than four letters only as they are), a
compound's ending with its German stem ("Daten" finds "Maschinendaten"), and the same for each part of
the word when it is a compound of known words ("Kühlraumtemperaturen" finds "Kühlraum" and
"Temperatur"). A quoted phrase matches its words' first stems side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

from allmende.knowledge.analysis import ENDING, MIN_ENDING, german_stem, stems
from allmende.knowledge.stopwords import STOPWORDS
from allmende.network.query_text import Term, parse

MIN_PREFIX = 4
"""Stems shorter than this match only as they are ("dat" of "Daten" does not find "Datei")."""


@dataclass(frozen=True)
class QueryWord:
    """One word (or quoted phrase) of a query: the terms that match it, exactly or as prefixes."""

    written: str
    exact: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    phrase: tuple[str, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        """Every term, exact ones and prefixes (what the index is asked for)."""
        return (*self.exact, *self.prefixes)


def written_words(text: str) -> list[str]:
    """The query's words and phrases as written (lower case), function words dropped unless nothing
    else remains; a phrase's words joined by spaces."""
    terms = [Term(tuple(w.casefold() for w in term.words)) for group in parse(text) for term in group]
    kept = [t for t in terms if t.is_phrase or (t.words[0] not in STOPWORDS and len(t.words[0]) > 1)]
    return list(dict.fromkeys(" ".join(t.words) for t in kept or terms))


def _alternatives(word: str) -> tuple[set[str], set[str]]:
    exact: set[str] = set()
    prefixes: set[str] = set()
    if len(word) >= MIN_ENDING and word.isalpha():
        exact.add(ENDING + german_stem(word))
    for term in stems(word):
        (prefixes if len(term) >= MIN_PREFIX else exact).add(term)
    return exact, prefixes


def query_word(written: str, parts: tuple[str, ...] = ()) -> QueryWord:
    """What ``written`` (a word, or a phrase with spaces) matches; ``parts``: its compound parts."""
    if " " in written:
        return QueryWord(written, phrase=tuple(stems(w)[0] for w in written.split()))
    exact: set[str] = set()
    prefixes: set[str] = set()
    for word in (written, *parts):
        more_exact, more_prefixes = _alternatives(word)
        exact |= more_exact
        prefixes |= more_prefixes
    # a prefix that another prefix starts with adds nothing; nor does an exact term it starts with
    kept = sorted(p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes))
    rest = sorted(e for e in exact if not any(e.startswith(q) for q in kept))
    return QueryWord(written, tuple(rest), tuple(kept))


def found_in(word: QueryWord, terms: str) -> bool:
    """Whether an item's terms (its fields' terms joined by spaces, with a space before and after)
    contain ``word``."""
    if word.phrase:
        return f" {' '.join(word.phrase)} " in terms
    return any(f" {e} " in terms for e in word.exact) or any(f" {p}" in terms for p in word.prefixes)
