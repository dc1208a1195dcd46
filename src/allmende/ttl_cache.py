"""A small in-process cache whose entries expire after a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Entries live ``ttl_seconds``; when ``max_entries`` is reached the oldest half is dropped."""

    def __init__(
        self, ttl_seconds: float, max_entries: int = 1000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: dict[K, tuple[V, float]] = {}

    def get(self, key: K) -> V | None:
        """The live value for ``key``, or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= self._clock():
            del self._entries[key]
            return None
        return entry[0]

    def put(self, key: K, value: V) -> None:
        """Store ``value`` for ``ttl_seconds`` (a TTL of 0 stores nothing)."""
        if self._ttl <= 0:
            return
        if len(self._entries) >= self._max:
            for old in list(self._entries)[: self._max // 2]:
                del self._entries[old]
        self._entries[key] = (value, self._clock() + self._ttl)

    def discard(self, key: K) -> None:
        """Forget ``key``."""
        self._entries.pop(key, None)
