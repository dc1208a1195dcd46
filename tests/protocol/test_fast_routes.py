"""The plain-route dispatcher answers exactly as FastAPI's routing of the same endpoints does."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from allmende.app import PEER_ROUTERS, create_app
from allmende.catalog.routes import router as catalog_router
from allmende.negotiation.routes import consumer_router, provider_router
from allmende.node import Node
from allmende.protocol.fast_routes import PlainRouteDispatcher, fast_routes
from allmende.settings import load_settings
from allmende.setup_node import init_node
from allmende.transfer.routes import consumer_router as transfer_consumer_router
from allmende.transfer.routes import provider_router as transfer_provider_router

pytestmark = pytest.mark.anyio

DSP_ROUTERS = [
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
    assert any(m.cls is PlainRouteDispatcher for m in plain.user_middleware)
    plain.user_middleware[:] = [m for m in plain.user_middleware if m.cls is not PlainRouteDispatcher]
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=fast), base_url=node.base_url) as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=plain), base_url=node.base_url) as b,
    ):
        yield a, b
    await node.stop()


def test_every_dsp_endpoint_is_served_directly() -> None:
    routes = [r for router in DSP_ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    assert len(fast_routes(DSP_ROUTERS)) == len(routes)


async def test_every_dispatched_route_answers_as_fastapi_routes_it(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    """Generated from the routes themselves: a route FastAPI would hand to another endpoint first
    (e.g. a web page under the same path) would answer differently here."""
    fast, plain = clients
    dispatched = fast_routes(PEER_ROUTERS)
    assert len(dispatched) > len(fast_routes(DSP_ROUTERS))  # the other peer endpoints too
    for route in dispatched:
        path = re.sub(r"\(\?P<\w+>\[\^/\]\+\)", "x1", route.pattern.pattern.lstrip("^").rstrip("$"))
        path = re.sub(r"\\(.)", r"\1", path)  # "status\-list" -> "status-list"
        for method in sorted(route.methods):
            got = await fast.request(method, path, content=b"{}")
            want = await plain.request(method, path, content=b"{}")
            assert (got.status_code, got.content) == (want.status_code, want.content), (method, path)


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
        ("GET", "/benchmarks/rounds/r1", b""),
        ("POST", "/benchmarks/participations/r1/shares", b"{}"),
        ("POST", "/compute/v1/jobs", b"{}"),
        ("GET", "/directory/members", b""),
        ("GET", "/knowledge/items/x", b""),
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
