"""More like the best hit (pure): a need's words are often not those of the items that answer it, but
the best hit's words are those of its neighbours ("researcher in our company" finds a "scientist in
residence"; the other offers to "share a scientist" use the same words). So the candidates of a search
(the semantic ranking's and the keyword ranking's) are ranked once more by the words of the best
hit's title and keywords they contain, each weighing its inverse document frequency among the
candidates; that ranking joins the fusion with a small weight (pseudo-relevance feedback)."""

from __future__ import annotations

import math
from collections.abc import Mapping

from allmende.knowledge.analysis import ENDING
from allmende.knowledge.stopwords import STOPWORDS

FEEDBACK_TERMS = 20
"""At most this many terms of the best hit's title and keywords count."""


def feedback_terms(terms: str) -> list[str]:
    """The terms (index terms of a title and keywords) that look for similar items: whole words only,
    no endings of compounds, numbers or function words, at most :data:`FEEDBACK_TERMS`."""
    kept = [
        t
        for t in dict.fromkeys(terms.split())
        if len(t) > 2 and not t.startswith(ENDING) and not t.isdigit() and t not in STOPWORDS
    ]
    return kept[:FEEDBACK_TERMS]


def similar(best: str, candidates: Mapping[int, str]) -> list[int]:
    """The ``candidates`` (row → its fields' terms) containing terms of ``best`` (the best hit's title
    and keyword terms), most similar first; a tie keeps the candidates' order."""
    terms = feedback_terms(best)
    padded = {row: f" {text} " for row, text in candidates.items()}
    found = {row: [t for t in terms if f" {t} " in text] for row, text in padded.items()}
    frequency: dict[str, int] = {}
    for shared in found.values():
        for term in shared:
            frequency[term] = frequency.get(term, 0) + 1
    total = len(candidates)
    weight = {t: math.log((total - n + 0.5) / (n + 0.5) + 1) for t, n in frequency.items()}
    scores = {row: sum(weight[t] for t in shared) for row, shared in found.items() if shared}
    return sorted(scores, key=lambda row: -scores[row])
