"""A lean client of a node's management API for the benchmarks that share the 2 cores with the nodes.

httpx's client layer (URL merging, cookies, event hooks, auth flow) costs about a millisecond of CPU per
request, which on a 2-core machine is taken from the nodes being measured. This client writes the
HTTP/1.1 request itself and sends it on the keep-alive connections of allmende's own
:class:`~allmende.messaging.peer_transport.PeerTransport` (what the outbox sends peer messages with);
the answer is an ``httpx.Response``. Only what the benchmarks need: JSON bodies, query parameters,
one API key.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from allmende.messaging.peer_transport import PeerTransport


class LeanApiClient:
    """``request(method, path, json=..., params=...)`` against one node, authenticated by ``api_key``."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 60.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"a plain http://host:port address is needed, not {base_url!r}")
        self._origin = (parts.scheme, parts.hostname, parts.port)
        self._head = b"\r\nHost: %s\r\nAuthorization: Bearer %s\r\nAccept-Encoding: identity" % (
            parts.netloc.encode("ascii"),
            api_key.encode("ascii"),
        )
        self._timeout = timeout
        self._transport = PeerTransport()

    async def request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        target = path + ("?" + urlencode(params) if params else "")
        content = b"" if json is None else _dumps(json)
        head = f"{method} {target} HTTP/1.1".encode("ascii") + self._head
        if json is not None:
            head += b"\r\nContent-Type: application/json\r\nContent-Length: %d" % len(content)
        return await self._transport.exchange(
            self._origin, head + b"\r\n\r\n" + content, None, self._timeout, self._timeout
        )

    async def get(self, path: str, *, params: dict[str, Any] | None = None) -> httpx.Response:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, *, json: Any = None) -> httpx.Response:
        return await self.request("POST", path, json=json)

    async def aclose(self) -> None:
        await self._transport.aclose()


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")
