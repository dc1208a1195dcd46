"""How text becomes keyword-search terms (pure). One function makes the terms the index holds, for
SQLite FTS5 and PostgreSQL alike, and the query's words are made the same way.

- A **word** is a run of letters and digits, in lower case (``ß`` as ``ss``).
- Its **stems**: the Snowball stemmers for German and for English (both, whatever the item's language:
  German texts use English words and the other way round), without diacritics: "Förderprogrammen" →
  ``forderprogramm``, "companies" → ``compani``. A word gives its English stem too unless that starts
  with the German one (most German words: the English stemmer leaves them as they are).
- Its **endings**: a German compound names what it is last ("Maschinen*daten*", "Bild*erkennung*"), so
  a word of at least seven letters also gives the German stems of its endings of at least four letters
  after at least three, marked with :data:`ENDING` (``0dat`` for "Maschinendaten"): "Daten" then finds
  "Maschinendaten", "erkennen" finds "Bilderkennung". The mark keeps them apart from whole words, so a
  query's compound is only split into parts that occur as words of their own (:mod:`.compounds`).

Each field's terms are its words' first (German) stems in order (a quoted phrase matches them side by
side), then the other stems and the endings.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from typing import Any

ENDING = "0"
"""Marks the stem of a word's ending (a digit: the stem of a word of letters never starts with one)."""
MIN_LEAD = 3
"""Letters a compound's first part has at least (so "Karten" is no compound of "arten")."""
MIN_ENDING = 4
"""Letters an ending has at least ("Plan" of "Notfallplan", "Zeit" of "Arbeitszeit")."""

_WORD = re.compile(r"[^\W_]+")
_MARKS = re.compile("[\u0300-\u036f]+")
_STEMMERS: list[Any] = []
_STEMMING = threading.Lock()  # a Snowball stemmer keeps its state in the object while it works


def _stemmers() -> list[Any]:
    """The German and the English stemmer, made at first use: the package loads all its 36 languages
    (12 ms), which a node need not spend at start-up. Called holding ``_STEMMING``."""
    if not _STEMMERS:
        import snowballstemmer  # type: ignore[import-untyped]

        _STEMMERS.extend((snowballstemmer.stemmer("german"), snowballstemmer.stemmer("english")))
    return _STEMMERS


def fold(text: str) -> str:
    """Lower case without diacritics, as the index compares words ("Förder" → ``forder``)."""
    lowered = text.casefold()
    return lowered if lowered.isascii() else _MARKS.sub("", unicodedata.normalize("NFKD", lowered))


def words(text: str) -> list[str]:
    """The words of ``text`` in lower case (diacritics kept: the German stemmer reads umlauts)."""
    return _WORD.findall(text.casefold())


def _stem(language: int, word: str) -> str:
    with _STEMMING:
        return fold(_stemmers()[language].stemWord(word))


@lru_cache(maxsize=1 << 17)
def german_stem(word: str) -> str:
    """The German stem of a lower-case word (folded): also what an ending of a compound is indexed as."""
    return _stem(0, word) if len(word) > 2 and word.isalpha() else fold(word)


@lru_cache(maxsize=1 << 16)
def stems(word: str) -> tuple[str, ...]:
    """The German stem of a lower-case word, then its English stem unless that starts with the German
    one (folded)."""
    german = german_stem(word)
    if len(word) < 3 or not word.isalpha():
        return (german,)
    english = _stem(1, word)
    # An English stem the German one starts with adds nothing ("maschinen" for "maschin": a query's stem
    # matches as a prefix); it is the word itself, as the English stemmer leaves most German words.
    return (german,) if english.startswith(german) else (german, english)


@lru_cache(maxsize=1 << 16)
def endings(word: str) -> tuple[str, ...]:
    """The marked stems of a lower-case word's endings ("maschinendaten" → ..., ``0dat``), longest
    first; none for a word of fewer than seven letters or with digits."""
    if len(word) < MIN_LEAD + MIN_ENDING or not word.isalpha():
        return ()
    found = (ENDING + german_stem(word[start:]) for start in range(MIN_LEAD, len(word) - MIN_ENDING + 1))
    return tuple(dict.fromkeys(found))


def field_terms(text: str) -> str:
    """The index terms of one field: first stems in order, then other stems and endings."""
    found = words(text)
    first: list[str] = []
    more: dict[str, None] = {}
    for word in found:
        made = stems(word)
        first.append(made[0])
        for other in made[1:]:
            more[other] = None
        for ending in endings(word):
            more[ending] = None
    return " ".join([*first, *more])


def search_terms(title: str, keywords: str, body: str) -> tuple[str, str, str]:
    """The index terms of an item's three weighted fields (title, keywords, text)."""
    return field_terms(title), field_terms(keywords), field_terms(body)
