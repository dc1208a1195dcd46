"""The DSP dispatcher answers exactly as FastAPI's routing of the same endpoints does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from allmende.app import create_app
from allmende.catalog.routes import router as catalog_router
from allmende.negotiation.routes import consumer_router, provider_router
from allmende.node import Node
from allmende.protocol.fast_routes import DspDispatcher, fast_routes
from allmende.settings import load_settings
from allmende.setup_node import init_node
from allmende.transfer.routes import consumer_router as transfer_consumer_router
from allmende.transfer.routes import provider_router as transfer_provider_router

pytestmark = pytest.mark.anyio

ROUTERS = [
    catalog_router,
    provider_router,
    consumer_router,
    transfer_provider_router,
    transfer_consumer_router,
]


@pytest.fixture
async def clients(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Two clients of one node: through the dispatcher, and through FastAPI's routing only."""
    init_node(tmp_path / "n", name="N", public_url="http://127.0.0.1:8491", port=8491)
    node = Node(load_settings(tmp_path / "n"))
    fast = create_app(node, manage_lifecycle=False)
    plain = create_app(node, manage_lifecycle=False)
    assert any(m.cls is DspDispatcher for m in plain.user_middleware)
    plain.user_middleware[:] = [m for m in plain.user_middleware if m.cls is not DspDispatcher]
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=fast), base_url=node.base_url) as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=plain), base_url=node.base_url) as b,
    ):
        yield a, b
    await node.stop()


def test_every_dsp_endpoint_is_served_directly() -> None:
    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    assert len(fast_routes(ROUTERS)) == len(routes)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/dsp/negotiations/request", b"{}"),
        ("POST", "/dsp/negotiations/urn:uuid:1/events", b'{"a":1}'),
        ("GET", "/dsp/negotiations/urn:uuid:1", b""),
        ("GET", "/dsp/callback/negotiations/urn:uuid:1", b""),
        ("POST", "/dsp/callback/negotiations/urn:uuid:1/agreement", b"not json"),
        ("POST", "/dsp/catalog/request", b"{}"),
        ("GET", "/dsp/catalog/datasets/x", b""),
        ("POST", "/dsp/transfers/urn:uuid:1/start", b"{}"),
        ("PUT", "/dsp/negotiations/request", b"{}"),  # not a DSP method: FastAPI's 405
        ("POST", "/dsp/negotiations/a/b/c", b"{}"),  # no such route: FastAPI's 404
    ],
)
async def test_answers_like_fastapi(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], method: str, path: str, body: bytes
) -> None:
    fast, plain = clients
    for headers in ({}, {"Authorization": "Bearer not.a.token"}):
        got = await fast.request(method, path, content=body, headers=headers)
        want = await plain.request(method, path, content=body, headers=headers)
        assert (got.status_code, got.content) == (want.status_code, want.content)
        assert got.headers.get("www-authenticate") == want.headers.get("www-authenticate")
        assert got.headers.get("content-type") == want.headers.get("content-type")
