"""Compute tests: the runtimes, each job in its own fresh work folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from allmende.compute.python_runtime import PythonRuntime
from allmende.compute.sql_runtime import SqlRuntime

_python_runtime = PythonRuntime()


@pytest.fixture
def work_dirs(tmp_path: Path) -> Callable[[], Path]:
    """A factory of fresh, empty work folders (one per job)."""
    counter = iter(range(1_000_000))

    def make() -> Path:
        path = tmp_path / f"work-{next(counter)}"
        path.mkdir()
        return path

    return make


@pytest.fixture
def sql_runtime() -> SqlRuntime:
    return SqlRuntime()


@pytest.fixture
def python_runtime() -> PythonRuntime:
    """The bubblewrap runtime; skips where it cannot work, unless ALLMENDE_REQUIRE_SANDBOX=1 (CI)."""
    status = _python_runtime.available()
    if not status.ok:
        if os.environ.get("ALLMENDE_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"ALLMENDE_REQUIRE_SANDBOX=1 but the sandbox is not available: {status.reason}")
        pytest.skip(f"bubblewrap sandbox not available: {status.reason}")
    return _python_runtime
