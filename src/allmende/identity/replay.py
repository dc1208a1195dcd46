"""Replay protection for ID tokens: each (issuer, jti) is accepted once while the token could be valid."""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from allmende.clock import utcnow
from allmende.identity.errors import ReplayCapacityError


class ReplayGuard(Protocol):
    """Remembers token ids until the tokens expire; implementations must be safe for concurrent use."""

    def check_and_remember(self, jti: str, issuer: str, expires_at: datetime) -> bool:
        """Record ``(issuer, jti)``; return False if it was already recorded and has not expired."""
        ...


class InMemoryReplayGuard:
    """A thread-safe ReplayGuard for one process.

    An entry is kept until ``expires_at`` plus ``retention_margin_seconds`` (at least the verifier's
    clock leeway, since a token is accepted that long after ``exp``). Expired entries are pruned on
    every call. Memory is bounded by ``max_entries``: when that many unexpired tokens are held, new
    tokens are refused with ReplayCapacityError rather than forgetting old ones (fails closed).
    """

    def __init__(
        self,
        *,
        max_entries: int = 100_000,
        retention_margin_seconds: float = 60,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self._max_entries = max_entries
        self._margin = timedelta(seconds=retention_margin_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._forget_at: dict[tuple[str, str], datetime] = {}
        self._queue: list[tuple[datetime, tuple[str, str]]] = []

    def __len__(self) -> int:
        """Number of token ids currently remembered."""
        with self._lock:
            return len(self._forget_at)

    def check_and_remember(self, jti: str, issuer: str, expires_at: datetime) -> bool:
        """Return True and remember the token the first time; False on a replay."""
        entry = (issuer, jti)
        with self._lock:
            self._prune(self._clock())
            if entry in self._forget_at:
                return False
            if len(self._forget_at) >= self._max_entries:
                raise ReplayCapacityError(
                    f"replay cache is full ({self._max_entries} unexpired tokens); request refused"
                )
            forget_at = expires_at + self._margin
            self._forget_at[entry] = forget_at
            heapq.heappush(self._queue, (forget_at, entry))
            return True

    def _prune(self, now: datetime) -> None:
        while self._queue and self._queue[0][0] <= now:
            _, entry = heapq.heappop(self._queue)
            self._forget_at.pop(entry, None)
