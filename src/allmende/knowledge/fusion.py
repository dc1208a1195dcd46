"""Reciprocal rank fusion (Cormack et al. 2009) of ranked lists (pure).

Each list adds ``weight / (k + rank)`` (rank from 1) for every item in it; items found by both lists
add up. ``k`` dampens the difference between the first places; 60 is the value of the original paper.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = 60
T = TypeVar("T", bound=Hashable)


def rrf(
    rankings: Sequence[Sequence[T]], *, k: int = K, weights: Sequence[float] | None = None
) -> list[tuple[T, float]]:
    """The fused ranking: (item, score), best first; ties keep the order of first appearance."""
    if weights is not None and len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[T, float] = {}
    for index, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else float(weights[index])
        for rank, item in enumerate(dict.fromkeys(ranking), start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    order = {item: position for position, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda pair: (-pair[1], order[pair[0]]))
