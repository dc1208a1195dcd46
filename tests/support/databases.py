"""The database backends the store tests run on: SQLite always, PostgreSQL where reachable."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

PG_ADMIN_URL = os.environ.get(
    "ALLMENDE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), connect_timeout=3, autocommit=True):
            return None
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}"


_PG_PROBLEM = postgres_reachable()


@dataclass(frozen=True)
class Backend:
    id: str

    @contextmanager
    def fresh(self) -> Iterator[str | None]:
        """A URL of an empty database (None = the node's default SQLite file)."""
        if self.id == "sqlite":
            yield None
            return
        if _PG_PROBLEM is not None:
            pytest.skip(_PG_PROBLEM)
        import psycopg

        name = f"allmende_test_{uuid.uuid4().hex[:12]}"
        admin = PG_ADMIN_URL.replace("+psycopg", "")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_urls() -> list[pytest.param]:  # type: ignore[valid-type]
    return [
        pytest.param(Backend("sqlite"), id="sqlite"),
        pytest.param(Backend("postgres"), id="postgres", marks=pytest.mark.postgres),
    ]
