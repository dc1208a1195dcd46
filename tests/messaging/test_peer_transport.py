"""The lean peer HTTP client against a scripted HTTP/1.1 server on loopback (real sockets)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from allmende.messaging.peer_transport import LeanPeerClient, PeerTransport, peer_client

pytestmark = pytest.mark.anyio

Script = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]
"""Answers one request (its head and body); returns False to close the connection afterwards."""


class Server:
    """Counts connections and keeps the requests it received."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.requests: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                if not await self.script(request, writer):
                    return
                await writer.drain()
        finally:
            writer.close()


@asynccontextmanager
async def serving(script: Script) -> AsyncIterator[tuple[str, Server]]:
    server = Server(script)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        listener.close()


def answer(body: bytes, status: str = "200 OK", extra: bytes = b"") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n".encode()
        + extra
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


async def test_posts_and_reuses_the_connection() -> None:
    async def script(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer(b'{"ok":true}', "201 Created"))
        return True

    async with serving(script) as (url, server):
        client = LeanPeerClient(timeout=5)
        for _ in range(3):
            response = await client.post(
                f"{url}/dsp/negotiations/urn:uuid:1/events?x=1",
                content=b'{"a":1}',
                headers={"Authorization": "Bearer t", "Content-Type": "application/json"},
            )
            assert response.status_code == 201
            assert response.json() == {"ok": True}
        await client.aclose()
    assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /dsp/negotiations/urn:uuid:1/events?x=1 HTTP/1.1\r\n")
    assert f"Host: {url.removeprefix('http://')}".encode() in first
    assert b"Authorization: Bearer t\r\n" in first
    assert b"Content-Length: 7\r\n" in first
    assert first.endswith(b'\r\n\r\n{"a":1}')


async def test_reads_chunked_and_close_delimited_answers_and_skips_interim_ones() -> None:
    async def script(request: bytes, writer: asyncio.StreamWriter) -> bool:
        if b" /chunked " in request:
            writer.write(
                b"HTTP/1.1 100 Continue\r\n\r\n"
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b'4;ext=1\r\n{"a"\r\n3\r\n:1}\r\n0\r\nX-Trailer: 1\r\n\r\n'
            )
            return True
        writer.write(b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"b":2}')
        return False

    async with serving(script) as (url, server):
        client = LeanPeerClient(timeout=5)
        assert (await client.post(f"{url}/chunked", content=b"", headers={})).json() == {"a": 1}
        assert (await client.post(f"{url}/chunked", content=b"", headers={})).json() == {"a": 1}
        assert server.connections == 1
        assert (await client.post(f"{url}/close", content=b"", headers={})).json() == {"b": 2}
        assert (await client.post(f"{url}/close", content=b"", headers={})).json() == {"b": 2}
        assert server.connections == 2  # a close-delimited answer ends the connection it came on
        await client.aclose()


async def test_a_connection_closed_by_the_server_is_not_reused() -> None:
    async def script(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer(b"{}"))
        await writer.drain()
        return False  # closes after answering, without saying so

    async with serving(script) as (url, server):
        client = LeanPeerClient(timeout=5)
        for _ in range(2):
            assert (await client.post(f"{url}/x", content=b"{}", headers={})).status_code == 200
            await asyncio.sleep(0.05)  # the close arrives while the connection is idle
        await client.aclose()
    assert server.connections == 2


async def test_failures_are_httpx_errors() -> None:
    async def script(request: bytes, writer: asyncio.StreamWriter) -> bool:
        if b" /slow " in request:
            await asyncio.sleep(2)
        elif b" /garbage " in request:
            writer.write(b"SMTP ready\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}")  # cut off
        return False

    async with serving(script) as (url, _server):
        client = LeanPeerClient(timeout=0.3)
        with pytest.raises(httpx.ReadTimeout):
            await client.post(f"{url}/slow", content=b"", headers={})
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(f"{url}/garbage", content=b"", headers={})
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(f"{url}/cut", content=b"", headers={})
        with pytest.raises(httpx.UnsupportedProtocol):
            await client.post("ftp://127.0.0.1/x", content=b"", headers={})
        await client.aclose()
    with pytest.raises(httpx.ConnectError):  # nobody listens there any more
        await LeanPeerClient(timeout=1).post(f"{url}/x", content=b"", headers={})


async def test_the_transport_serves_an_httpx_client() -> None:
    async def script(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer(request.split(b"\r\n", 1)[0]))
        return True

    async with serving(script) as (url, server):
        async with httpx.AsyncClient(transport=PeerTransport(), timeout=5) as client:
            response = await client.get(f"{url}/well known/x", params={"q": "ä"})
            assert response.status_code == 200
            assert response.content == b"GET /well%20known/x?q=%C3%A4 HTTP/1.1"
            assert (await client.post(f"{url}/p", json={"a": 1})).content == b"POST /p HTTP/1.1"
        assert b"Accept-Encoding: identity" in server.requests[0]
    assert server.connections == 1


async def test_peer_client_keeps_the_test_transport_and_proxies_with_httpx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.delenv("ALL_PROXY", raising=False)
    lean = peer_client(None, 5)
    assert isinstance(lean, LeanPeerClient)
    seam = peer_client(httpx.MockTransport(lambda request: httpx.Response(204)), 5)
    assert isinstance(seam, httpx.AsyncClient)
    assert (await seam.post("http://peer.example/x", content=b"", headers={})).status_code == 204
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    proxied = peer_client(None, 5)
    assert isinstance(proxied, httpx.AsyncClient)
    for client in (lean, seam, proxied):
        await client.aclose()
