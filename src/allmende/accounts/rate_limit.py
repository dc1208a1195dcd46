"""The log-in rate limit: after too many failures for one user name or one address, wait.

In memory, per process: a restart forgets the counters (documented in docs/web.md).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class LoginRateLimit:
    """At most ``max_failures`` failed log-ins per key within ``window_seconds``."""

    def __init__(
        self,
        max_failures: int = 5,
        window_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self._clock()
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window_seconds:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, *keys: str) -> int:
        """Seconds until another attempt is allowed for all ``keys`` (0: allowed now)."""
        wait = 0.0
        now = self._clock()
        for key in keys:
            times = self._recent(key)
            if len(times) >= self.max_failures:
                wait = max(wait, times[0] + self.window_seconds - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, *keys: str) -> None:
        """Record a failed attempt under each key."""
        if len(self._failures) >= self._max_keys:
            self._failures.clear()  # bounded memory under a flood of distinct keys
        now = self._clock()
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
