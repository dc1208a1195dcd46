"""Shamir secret sharing of integer vectors over the prime field GF(2^127 - 1) (pure).

A dealer hides each element ``s`` of its vector as the constant term of a random polynomial of
degree ``threshold - 1`` and gives participant ``x`` (1, 2, ...) the polynomial's value at ``x``.
Any ``threshold`` values determine the polynomial (Lagrange interpolation); fewer reveal nothing
about ``s``. Shares are additive: the element-wise sum of the shares that participant ``x`` holds
from several dealers is a share of the sum of their vectors, so only totals are ever reconstructed.
Randomness comes from :mod:`secrets`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence

PRIME = 2**127 - 1  # a Mersenne prime: room for sums of 10^4-scaled values from millions of parties

Random = Callable[[int], list[int]]
"""``random(k)`` returns ``k`` uniform field elements; :func:`field_elements` unless a test fixes it."""
_MASK = (1 << 127) - 1


def field_elements(count: int) -> list[int]:
    """``count`` uniform random field elements from one read of the system's CSPRNG.

    Each is 127 random bits; the one value that equals PRIME (probability 2^-127) is drawn again.
    """
    raw = secrets.token_bytes(16 * count)
    values = [int.from_bytes(raw[i : i + 16], "big") & _MASK for i in range(0, 16 * count, 16)]
    return [v if v < PRIME else field_elements(1)[0] for v in values]


class ShareError(ValueError):
    """Shares that cannot be combined: too few, duplicate points, unequal lengths or inconsistent."""


def is_element(value: object) -> bool:
    """True for an ``int`` (not ``bool``) in ``[0, PRIME)``."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < PRIME


def share_vector(
    secret: Sequence[int], xs: Sequence[int], threshold: int, random: Random = field_elements
) -> dict[int, list[int]]:
    """The shares of ``secret`` (field elements) for the points ``xs``: ``{x: [share per element]}``."""
    if threshold < 1:
        raise ShareError("the threshold must be at least 1")
    if len(set(xs)) != len(xs) or any(x <= 0 or x >= PRIME for x in xs):
        raise ShareError("share points must be distinct and in 1..PRIME-1")
    if len(xs) < threshold:
        raise ShareError(f"{len(xs)} share points cannot reach the threshold {threshold}")
    if not all(is_element(element) for element in secret):
        raise ShareError("a secret element is not a field element")
    shares: dict[int, list[int]] = {x: [] for x in xs}
    randomness = random(len(secret) * (threshold - 1))
    for i, element in enumerate(secret):
        coefficients = [element, *randomness[i * (threshold - 1) : (i + 1) * (threshold - 1)]]
        for x in xs:
            value = 0
            for coefficient in reversed(coefficients):  # Horner
                value = (value * x + coefficient) % PRIME
            shares[x].append(value)
    return shares


def add_vectors(vectors: Sequence[Sequence[int]]) -> list[int]:
    """The element-wise sum (mod PRIME) of equally long vectors."""
    if not vectors:
        raise ShareError("nothing to add")
    length = len(vectors[0])
    if any(len(vector) != length for vector in vectors):
        raise ShareError("vectors of different lengths cannot be added")
    return [sum(column) % PRIME for column in zip(*vectors, strict=True)]


def lagrange_coefficients(xs: Sequence[int], at: int) -> list[int]:
    """The weights that interpolate values at the points ``xs`` to the point ``at``."""
    if len(set(xs)) != len(xs):
        raise ShareError("duplicate share points")
    weights = []
    for j, xj in enumerate(xs):
        numerator, denominator = 1, 1
        for m, xm in enumerate(xs):
            if m != j:
                numerator = numerator * (at - xm) % PRIME
                denominator = denominator * (xj - xm) % PRIME
        weights.append(numerator * pow(denominator, -1, PRIME) % PRIME)
    return weights


def interpolate(points: Mapping[int, Sequence[int]], at: int) -> list[int]:
    """The vector the polynomials through ``points`` (``{x: vector}``) take at ``at``."""
    xs = sorted(points)
    weights = lagrange_coefficients(xs, at)
    length = len(points[xs[0]])
    if any(len(points[x]) != length for x in xs):
        raise ShareError("share vectors of different lengths")
    return [
        sum(weight * points[x][i] for weight, x in zip(weights, xs, strict=True)) % PRIME
        for i in range(length)
    ]


def reconstruct(points: Mapping[int, Sequence[int]], threshold: int) -> list[int]:
    """The shared vector from at least ``threshold`` points; extra points must agree with the first ones.

    Raises ShareError when there are too few points or an extra point lies off the polynomials
    (a participant sent a wrong share-sum, or the dealer sets differed).
    """
    if len(points) < threshold:
        raise ShareError(f"{len(points)} share-sums cannot reach the threshold {threshold}")
    xs = sorted(points)
    basis = {x: points[x] for x in xs[:threshold]}
    for x in xs[threshold:]:
        if interpolate(basis, x) != list(points[x]):
            raise ShareError(f"the share-sum of participant {x} does not fit the others")
    return interpolate(basis, 0)


def signed(element: int) -> int:
    """A field element read as a signed integer (elements above PRIME/2 are negative)."""
    return element - PRIME if element > PRIME // 2 else element
