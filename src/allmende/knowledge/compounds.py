"""Splitting a query's German compounds into parts that occur as words of their own (pure).

"Kühlraumtemperaturen" finds an item about the "Temperatur" in a "Kühlraum" only if the query's word
is split: into its longest last part that is a known word and a first part that is a known word too,
perhaps after dropping a linking element ("Verschlüsselung*s*trojaner", "Maschine*n*daten"); a first
part that is no word may be a compound itself (three parts at most). *Known* means: a word of the index
(its stem), looked up by the caller, so the dictionary is the vocabulary of the items searched and no
word list has to be kept. The other way round, "Daten" finding "Maschinendaten", needs no split:
the index holds the endings of long words (:mod:`.analysis`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from allmende.knowledge.analysis import MIN_ENDING, MIN_LEAD, fold, german_stem

LINKS = ("s", "es", "n", "en", "ns", "er", "e")
"""Linking elements between the parts of a German compound."""
MAX_PARTS = 3
Lookup = Callable[[set[str]], set[str]]
"""Which of these stems are words of the index."""


def _lead_forms(lead: str) -> set[str]:
    """What a first part may stand for as a word of its own: itself, or without a linking element."""
    forms = {fold(lead), german_stem(lead)}
    for link in LINKS:
        base = lead[: -len(link)]
        if lead.endswith(link) and len(base) >= MIN_LEAD:
            forms |= {fold(base), german_stem(base)}
    return forms


def _starts(word: str) -> range:
    """Where a last part may start: after a first part of MIN_LEAD letters, leaving MIN_ENDING."""
    if not word.isalpha():
        return range(0)
    return range(MIN_LEAD, len(word) - MIN_ENDING + 1)


def wanted(word: str, known: set[str]) -> set[str]:
    """The stems whose presence decides how ``word`` splits: its possible last parts and first parts;
    and, where a last part is ``known`` already, the parts of the first part before it."""
    needed: set[str] = set()
    for start in _starts(word):
        head, lead = word[start:], word[:start]
        needed.add(german_stem(head))
        needed |= _lead_forms(lead)
        if german_stem(head) in known:
            needed |= {german_stem(lead[s:]) for s in _starts(lead)}
            needed |= {f for s in _starts(lead) for f in _lead_forms(lead[:s])}
    return needed


def split(word: str, known: set[str], parts: int = MAX_PARTS) -> tuple[str, ...] | None:
    """The parts of the lower-case ``word`` (as written) by the longest known last part, or None when
    it is no compound of known words."""
    if parts < 2:
        return None
    for start in _starts(word):
        head, lead = word[start:], word[:start]
        if german_stem(head) not in known:
            continue
        if _lead_forms(lead) & known:
            return (lead, head)
        inner = split(lead, known, parts - 1)
        if inner is not None:
            return (*inner, head)
    return None


def compound_parts(words: Iterable[str], lookup: Lookup) -> dict[str, tuple[str, ...]]:
    """The parts of each of ``words`` that is a compound of known words, asking ``lookup`` at most
    twice (the last parts and first parts, then the parts of first parts)."""
    chosen = list(dict.fromkeys(words))
    known: set[str] = set()
    asked: set[str] = set()
    for _ in range(MAX_PARTS - 1):
        needed = set().union(*(wanted(word, known) for word in chosen)) - asked
        if not needed:
            break
        asked |= needed
        known |= lookup(needed)
    found = {word: split(word, known) for word in chosen}
    return {word: parts for word, parts in found.items() if parts}
