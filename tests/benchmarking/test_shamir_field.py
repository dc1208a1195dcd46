"""Shamir sharing over GF(2^127 - 1): any threshold of shares gives the secret back, sums add up."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allmende.benchmarking.field import (
    PRIME,
    ShareError,
    add_vectors,
    interpolate,
    is_element,
    reconstruct,
    share_vector,
    signed,
)

elements = st.integers(min_value=0, max_value=PRIME - 1)


@settings(max_examples=40, deadline=None)
@given(
    secret=st.lists(elements, min_size=1, max_size=6),
    participants=st.integers(min_value=2, max_value=8),
    data=st.data(),
)
def test_any_threshold_of_shares_gives_the_secret(
    secret: list[int], participants: int, data: st.DataObject
) -> None:
    threshold = data.draw(st.integers(min_value=1, max_value=participants))
    xs = list(range(1, participants + 1))
    shares = share_vector(secret, xs, threshold)
    chosen = data.draw(st.lists(st.sampled_from(xs), min_size=threshold, max_size=participants, unique=True))
    assert reconstruct({x: shares[x] for x in chosen}, threshold) == secret


@settings(max_examples=30, deadline=None)
@given(secrets=st.lists(st.lists(elements, min_size=3, max_size=3), min_size=2, max_size=6))
def test_summed_shares_reconstruct_the_sum(secrets: list[list[int]]) -> None:
    xs = [1, 2, 3, 4, 5]
    dealt = [share_vector(secret, xs, 3) for secret in secrets]
    share_sums = {x: add_vectors([d[x] for d in dealt]) for x in xs}
    assert reconstruct({x: share_sums[x] for x in (2, 4, 5)}, 3) == add_vectors(secrets)


def test_fewer_shares_than_the_threshold_are_refused() -> None:
    shares = share_vector([42], [1, 2, 3, 4], 3)
    with pytest.raises(ShareError, match="cannot reach the threshold 3"):
        reconstruct({1: shares[1], 2: shares[2]}, 3)


def test_fewer_shares_than_the_threshold_fit_every_secret() -> None:
    """Two shares of a degree-2 polynomial are consistent with any secret: they reveal nothing."""
    shares = share_vector([42], [1, 2, 3], 3)
    for guess in (0, 41, 42, PRIME - 1):
        # the third point that makes ``guess`` the secret always exists
        points = {0: [guess], 1: shares[1], 2: shares[2]}
        third = interpolate(points, 3)
        assert reconstruct({1: shares[1], 2: shares[2], 3: third}, 3) == [guess]


def test_a_share_sum_off_the_polynomial_is_detected() -> None:
    shares = share_vector([7, 8], [1, 2, 3, 4], 2)
    shares[4] = [(shares[4][0] + 1) % PRIME, shares[4][1]]
    with pytest.raises(ShareError, match="participant 4 does not fit"):
        reconstruct(shares, 2)


def test_shares_are_fresh_randomness_each_time() -> None:
    first, second = share_vector([5], [1, 2, 3], 2), share_vector([5], [1, 2, 3], 2)
    assert first != second and reconstruct(first, 2) == reconstruct(second, 2) == [5]


@pytest.mark.parametrize(
    ("secret", "xs", "threshold", "message"),
    [
        ([1], [1, 1, 2], 2, "distinct"),
        ([1], [0, 1, 2], 2, "distinct"),
        ([1], [1, 2], 3, "cannot reach"),
        ([PRIME], [1, 2], 2, "not a field element"),
        ([1], [1, 2], 0, "at least 1"),
    ],
)
def test_bad_sharing_requests_are_refused(
    secret: list[int], xs: list[int], threshold: int, message: str
) -> None:
    with pytest.raises(ShareError, match=message):
        share_vector(secret, xs, threshold)


def test_vectors_of_different_lengths_do_not_add() -> None:
    with pytest.raises(ShareError, match="different lengths"):
        add_vectors([[1, 2], [1]])


def test_signed_reads_negative_totals_and_elements_are_checked() -> None:
    assert signed(PRIME - 5) == -5 and signed(5) == 5
    assert is_element(0) and is_element(PRIME - 1)
    assert not any(is_element(v) for v in (-1, PRIME, True, "3", 1.0))
