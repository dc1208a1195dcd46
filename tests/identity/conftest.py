"""Shared fixtures for identity tests."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from allmende.identity import NodeKey


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def caller_key() -> NodeKey:
    return NodeKey("key-1", Ed25519PrivateKey.generate())
