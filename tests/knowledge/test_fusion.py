"""Reciprocal rank fusion (pure)."""

from __future__ import annotations

import pytest

from allmende.knowledge.fusion import K, rrf


def test_items_found_by_both_lists_rise() -> None:
    fused = rrf([["a", "b", "c"], ["c", "d", "a"]])
    assert [item for item, _ in fused] == ["a", "c", "b", "d"]
    assert fused[0][1] == pytest.approx(1 / (K + 1) + 1 / (K + 3))


def test_weights_ties_duplicates_and_empty_lists() -> None:
    assert [i for i, _ in rrf([["a"], ["b"]])] == ["a", "b"]  # a tie keeps first appearance
    assert [i for i, _ in rrf([["a"], ["b"]], weights=[1.0, 2.0])] == ["b", "a"]
    assert rrf([["a", "a", "b"]])[1] == ("b", pytest.approx(1 / (K + 2)))
    assert rrf([[], []]) == []
    with pytest.raises(ValueError, match="one weight per ranking"):
        rrf([["a"]], weights=[1.0, 2.0])
