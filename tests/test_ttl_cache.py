"""The expiring cache behind API-key roles and remote catalogs."""

from __future__ import annotations

from allmende.api.keys import RoleCache
from allmende.ttl_cache import TtlCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_their_ttl() -> None:
    clock = FakeClock()
    cache: TtlCache[str, int] = TtlCache(10, clock=clock)
    cache.put("a", 1)
    clock.now += 9.9
    assert cache.get("a") == 1
    clock.now += 0.2
    assert cache.get("a") is None


def test_zero_ttl_stores_nothing_and_size_is_bounded() -> None:
    off: TtlCache[str, int] = TtlCache(0)
    off.put("a", 1)
    assert off.get("a") is None
    small: TtlCache[int, int] = TtlCache(60, max_entries=4)
    for i in range(10):
        small.put(i, i)
    assert small.get(9) == 9
    assert sum(small.get(i) is not None for i in range(10)) <= 4


def test_role_cache_is_keyed_by_the_secret_not_stored_in_clear() -> None:
    cache = RoleCache()
    cache.remember("alm_abc_secret", "admin")
    assert cache.role("alm_abc_secret") == "admin"
    assert cache.role("alm_abc_other") is None
    assert "alm_abc_secret" not in repr(cache.__dict__)
