"""The pure rules of accounts: names, passwords, roles and the log-in rate limit."""

from __future__ import annotations

from allmende.accounts import rules
from allmende.accounts.rate_limit import LoginRateLimit


def test_user_names() -> None:
    assert rules.check_username("olga.muster") is None
    assert rules.check_username("o") is not None
    assert rules.check_username("Olga") is not None  # callers lower-case first
    assert rules.check_username("-olga") is not None
    assert rules.check_username("olga muster") is not None


def test_passwords() -> None:
    assert rules.check_password("correct horse battery") is None
    short = rules.check_password("abc")
    assert short is not None and str(rules.MIN_PASSWORD_LENGTH) in short.message
    long = rules.check_password("x" * (rules.MAX_PASSWORD_LENGTH + 1))
    assert long is not None and str(rules.MAX_PASSWORD_LENGTH) in long.message
    assert rules.check_password("olga-is-the-best", username="olga") is not None
    assert rules.check_password("aaaaaaaaaaaa") is not None


def test_roles() -> None:
    assert rules.can_change(rules.OWNER) and rules.can_change(rules.MEMBER)
    assert not rules.can_change(rules.READ)
    assert rules.can_administer(rules.OWNER)
    assert not rules.can_administer(rules.MEMBER)
    assert rules.check_role("admin") is not None


def test_rate_limit_counts_failures_per_key_within_the_window() -> None:
    now = [1000.0]
    limit = LoginRateLimit(max_failures=3, window_seconds=60, clock=lambda: now[0])
    for _ in range(3):
        assert limit.retry_after("user:olga", "address:1.2.3.4") == 0
        limit.failed("user:olga", "address:1.2.3.4")
    assert limit.retry_after("user:olga") == 60
    assert limit.retry_after("address:1.2.3.4") == 60
    assert limit.retry_after("user:other") == 0
    now[0] += 30
    assert limit.retry_after("user:olga") == 30
    now[0] += 31
    assert limit.retry_after("user:olga") == 0


def test_success_clears_the_user_but_not_the_address() -> None:
    limit = LoginRateLimit(max_failures=2, window_seconds=60, clock=lambda: 0.0)
    limit.failed("user:olga", "address:a")
    limit.failed("user:olga", "address:a")
    limit.succeeded("user:olga")
    assert limit.retry_after("user:olga") == 0
    assert limit.retry_after("address:a") > 0


def test_rate_limit_memory_is_bounded() -> None:
    limit = LoginRateLimit(max_failures=2, window_seconds=60, clock=lambda: 0.0, max_keys=10)
    for index in range(100):
        limit.failed(f"user:{index}")
    assert len(limit._failures) <= 10
