"""Shared fixtures: nodes created with the real `init`, wired through an in-process network."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from allmende.app import create_app
from allmende.loopback import InProcessNetwork
from allmende.node import Node
from allmende.settings import load_settings
from allmende.setup_node import CreatedNode, init_node
from tests.support.databases import database_urls


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=database_urls())
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """Every store test runs on SQLite and, where reachable, on PostgreSQL."""
    with request.param.fresh() as url:
        yield url


class RunningNode:
    """A node in a test: the real Node and app, plus an API client with the admin key."""

    def __init__(self, node: Node, created: CreatedNode, network: InProcessNetwork) -> None:
        self.node = node
        self.created = created
        self.app = create_app(node, manage_lifecycle=False)
        network.add(node.base_url, self.app)
        self.api = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url=node.base_url,
            headers={"Authorization": f"Bearer {created.admin_key}"},
        )

    @property
    def did(self) -> str:
        return self.node.did


NodeFactory = Callable[..., Any]


@pytest.fixture
async def network() -> AsyncIterator[InProcessNetwork]:
    yield InProcessNetwork()


@pytest.fixture
async def make_node(tmp_path: Path, network: InProcessNetwork) -> AsyncIterator[NodeFactory]:
    """Create and start nodes: ``await make_node("Name", port, **settings)``."""
    started: list[RunningNode] = []

    async def factory(
        name: str, port: int, *, database_url: str | None = None, **overrides: Any
    ) -> RunningNode:
        data_dir = tmp_path / f"node-{port}"
        created = init_node(
            data_dir, name=name, public_url=f"http://127.0.0.1:{port}", database_url=database_url
        )
        settings = load_settings(data_dir, environ={})
        if overrides:
            settings = type(settings)(data_dir=data_dir, values={**settings.values, **overrides})
        node = Node(settings, transport=network.transport())
        await node.start()
        test_node = RunningNode(node, created, network)
        started.append(test_node)
        return test_node

    yield factory
    for test_node in started:
        await test_node.api.aclose()
        await test_node.node.stop()
