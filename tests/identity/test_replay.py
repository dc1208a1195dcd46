"""The in-memory replay guard."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from allmende.identity import InMemoryReplayGuard, ReplayCapacityError, ReplayGuard

START = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def test_second_use_is_refused_until_expiry_plus_margin() -> None:
    clock = FakeClock()
    guard: ReplayGuard = InMemoryReplayGuard(retention_margin_seconds=60, clock=clock)
    expires = START + timedelta(minutes=5)
    assert guard.check_and_remember("j1", "did:web:a.example", expires) is True
    assert guard.check_and_remember("j1", "did:web:a.example", expires) is False
    clock.now = expires + timedelta(seconds=59)
    assert guard.check_and_remember("j1", "did:web:a.example", expires) is False
    clock.now = expires + timedelta(seconds=60)
    assert guard.check_and_remember("j1", "did:web:a.example", expires) is True


def test_same_jti_from_different_issuers_is_independent() -> None:
    guard = InMemoryReplayGuard(clock=FakeClock())
    expires = START + timedelta(minutes=5)
    assert guard.check_and_remember("j1", "did:web:a.example", expires)
    assert guard.check_and_remember("j1", "did:web:b.example", expires)
    assert len(guard) == 2


def test_expired_entries_are_pruned() -> None:
    clock = FakeClock()
    guard = InMemoryReplayGuard(retention_margin_seconds=0, clock=clock)
    for number in range(10):
        guard.check_and_remember(f"j{number}", "did:web:a.example", START + timedelta(seconds=number))
    clock.now = START + timedelta(seconds=5)
    guard.check_and_remember("fresh", "did:web:a.example", START + timedelta(minutes=5))
    assert len(guard) == 5  # j5..j9 and fresh


def test_full_guard_fails_closed_then_recovers() -> None:
    clock = FakeClock()
    guard = InMemoryReplayGuard(max_entries=2, retention_margin_seconds=0, clock=clock)
    expires = START + timedelta(minutes=5)
    guard.check_and_remember("a", "did:web:x.example", expires)
    guard.check_and_remember("b", "did:web:x.example", expires)
    with pytest.raises(ReplayCapacityError, match="replay cache is full"):
        guard.check_and_remember("c", "did:web:x.example", expires)
    assert guard.check_and_remember("a", "did:web:x.example", expires) is False
    clock.now = expires
    assert guard.check_and_remember("c", "did:web:x.example", expires + timedelta(minutes=5))


def test_concurrent_threads_accept_each_jti_once() -> None:
    guard = InMemoryReplayGuard(clock=FakeClock())
    expires = START + timedelta(minutes=5)
    accepted: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for number in range(200):
            result = guard.check_and_remember(f"j{number}", "did:web:a.example", expires)
            with lock:
                accepted.append(result)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert accepted.count(True) == 200 and accepted.count(False) == 600


def test_rejects_nonsense_capacity() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        InMemoryReplayGuard(max_entries=0)
