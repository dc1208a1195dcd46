"""Benchmark tests run their nodes on a recording in-process network (every body exchanged is kept)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.benchmarking.round_helpers import RecordingNetwork


@pytest.fixture
async def network() -> AsyncIterator[RecordingNetwork]:
    yield RecordingNetwork()
