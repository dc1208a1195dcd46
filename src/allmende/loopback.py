"""An in-process network: nodes' ASGI apps reachable by their public URLs without sockets.

Used by tests, the simulation and benchmarks: every node gets ``network.transport()`` as its
HTTP transport, so a request to ``http://127.0.0.1:8301/...`` goes straight into that node's app.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from starlette.types import ASGIApp


class InProcessNetwork:
    """Routes requests by origin (scheme, host, port) to registered ASGI apps."""

    def __init__(self) -> None:
        self._apps: dict[tuple[str, str, int], httpx.ASGITransport] = {}

    @staticmethod
    def _origin(url: str) -> tuple[str, str, int]:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return parts.scheme, (parts.hostname or "").lower(), port

    def add(self, base_url: str, app: ASGIApp) -> None:
        """Make ``app`` reachable at ``base_url``'s origin."""
        self._apps[self._origin(base_url)] = httpx.ASGITransport(app=app)

    def remove(self, base_url: str) -> None:
        """Take the app at ``base_url`` off the network (its peers then see connection errors)."""
        self._apps.pop(self._origin(base_url), None)

    def transport(self) -> httpx.AsyncBaseTransport:
        """A transport for a node's HTTP client."""
        return _Transport(self)

    def route(self, request: httpx.Request) -> httpx.ASGITransport:
        target = self._apps.get(self._origin(str(request.url)))
        if target is None:
            raise httpx.ConnectError(
                f"no node listens at {request.url.scheme}://{request.url.netloc.decode()}", request=request
            )
        return target


class _Transport(httpx.AsyncBaseTransport):
    def __init__(self, network: InProcessNetwork) -> None:
        self._network = network

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._network.route(request).handle_async_request(request)
