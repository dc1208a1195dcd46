"""A lean HTTP/1.1 transport for the small messages nodes send each other (the outbox).

httpx's default transport (httpcore on anyio) spent more CPU per DSP message than the node's own
work: its pool checks every pooled connection's socket on each request, and each check goes through
anyio's typed-attribute machinery. This transport speaks HTTP/1.1 over asyncio streams with a
keep-alive stack per origin and reads every answer whole (peer answers are small JSON documents),
behind the same seam: an ``httpx.AsyncBaseTransport`` inside an ``httpx.AsyncClient``, raising
httpx's exceptions, so callers and the in-process test network stay as they are.

Not handled here, by design: proxies (:func:`peer_client` falls back to httpx's own transport when
the environment names one), HTTP/2, compressed answers (it asks for ``identity``), streaming.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Iterable, Mapping
from typing import Protocol
from urllib.parse import urlsplit

import httpx
from httpx._utils import get_environment_proxies

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 8 * 1024 * 1024
KEEPALIVE_SECONDS = 4.0  # below the 5 s idle timeout of uvicorn (and most servers)
MAX_IDLE_PER_ORIGIN = 64
USER_AGENT = f"python-httpx/{httpx.__version__}".encode("ascii")

Origin = tuple[str, str, int]


class _Connection:
    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def usable(self, now: float) -> bool:
        """Still open (no EOF seen from the server) and not idle for too long."""
        return (
            now - self.idle_since < KEEPALIVE_SECONDS
            and not self.reader.at_eof()
            and not self.writer.is_closing()
        )

    def close(self) -> None:
        self.writer.close()


class PeerTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive on asyncio streams; answers are read completely."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl_context = ssl_context
        self._idle: dict[Origin, list[_Connection]] = {}

    def _ssl(self) -> ssl.SSLContext:
        if self._ssl_context is None:  # built on first https use: it costs ~0.1 s
            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` on a pooled (or new) connection and return the whole answer."""
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}", request=request)
        origin: Origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        timeouts: Mapping[str, float | None] = request.extensions.get("timeout", {})
        payload = _serialize(request.method, request.url.raw_path, request.headers.raw, await request.aread())
        return await self.exchange(origin, payload, request, timeouts.get("connect"), timeouts.get("read"))

    async def exchange(
        self,
        origin: Origin,
        payload: bytes,
        request: httpx.Request | None,
        connect_timeout: float | None,
        read_timeout: float | None,
    ) -> httpx.Response:
        """Send the serialized ``payload`` to ``origin``; errors and the answer name ``request`` if given."""
        connection = self._take_idle(origin)
        if connection is None:
            connection = await self._connect(origin, connect_timeout, request)
        try:
            status, headers, body, keep_alive = await _exchange(connection, payload, request, read_timeout)
        except BaseException:
            connection.close()
            raise
        if keep_alive:
            self._give_back(origin, connection)
        else:
            connection.close()
        return httpx.Response(
            status,
            headers=headers,
            content=body,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    def _take_idle(self, origin: Origin) -> _Connection | None:
        stack = self._idle.get(origin)
        now = time.monotonic()
        while stack:
            connection = stack.pop()
            if connection.usable(now):
                return connection
            connection.close()
        return None

    def _give_back(self, origin: Origin, connection: _Connection) -> None:
        stack = self._idle.setdefault(origin, [])
        if len(stack) >= MAX_IDLE_PER_ORIGIN:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        stack.append(connection)

    async def _connect(
        self, origin: Origin, timeout: float | None, request: httpx.Request | None
    ) -> _Connection:
        scheme, host, port = origin
        context = self._ssl() if scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if context is not None else None,
                    limit=MAX_HEAD_BYTES,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out", request=request) from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(f"{type(exc).__name__}: {exc}", request=request) from None
        return _Connection(reader, writer)

    async def aclose(self) -> None:
        """Close every idle connection."""
        for stack in self._idle.values():
            for connection in stack:
                connection.close()
        self._idle.clear()


def _serialize(method: str, target: bytes, headers: Iterable[tuple[bytes, bytes]], body: bytes) -> bytes:
    lines = [method.encode("ascii") + b" " + target + b" HTTP/1.1"]
    for name, value in headers:
        lower = name.lower()
        if lower in (b"accept-encoding", b"transfer-encoding", b"content-length"):
            continue
        if b"\r" in value or b"\n" in value or b"\r" in name or b"\n" in name:
            raise httpx.LocalProtocolError("header with a line break")
        lines.append(name + b": " + value)
    lines.append(b"Accept-Encoding: identity")
    if body or method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
        lines.append(b"Content-Length: " + str(len(body)).encode("ascii"))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def _exchange(
    connection: _Connection, payload: bytes, request: httpx.Request | None, timeout: float | None
) -> tuple[int, list[tuple[bytes, bytes]], bytes, bool]:
    """Write the request, read the answer: (status, headers, body, connection reusable?)."""
    try:
        async with asyncio.timeout(timeout):
            connection.writer.write(payload)
            await connection.writer.drain()
            return await _read_response(connection.reader, request)
    except TimeoutError:
        raise httpx.ReadTimeout("the peer did not answer in time", request=request) from None
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        raise httpx.RemoteProtocolError(f"malformed or cut-off answer: {exc}", request=request) from None
    except OSError as exc:
        raise httpx.ReadError(f"{type(exc).__name__}: {exc}", request=request) from None


async def _read_response(
    reader: asyncio.StreamReader, request: httpx.Request | None
) -> tuple[int, list[tuple[bytes, bytes]], bytes, bool]:
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].split(b"\r\n")
        version, _, rest = status_line.partition(b" ")
        if not version.startswith(b"HTTP/1."):
            raise ValueError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
        status = int(rest[:3])
        if status >= 200 or status == 101:
            break  # 1xx interim answers (100 Continue, 103 Early Hints) are skipped
    headers: list[tuple[bytes, bytes]] = []
    fields: dict[bytes, bytes] = {}
    for line in header_lines:
        name, sep, value = line.partition(b":")
        if not sep:
            raise ValueError(f"malformed header line {line[:80]!r}")
        name, value = name.strip(), value.strip()
        headers.append((name, value))
        fields[name.lower()] = value
    connection_header = fields.get(b"connection", b"").lower()
    keep_alive = version == b"HTTP/1.1" and b"close" not in connection_header
    if (request is not None and request.method == "HEAD") or status in (204, 304) or status < 200:
        return status, headers, b"", keep_alive
    if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
        body = await _read_chunked(reader)
    elif b"content-length" in fields:
        length = int(fields[b"content-length"])
        if not 0 <= length <= MAX_BODY_BYTES:
            raise ValueError(f"answer of {length} bytes is too large")
        body = await reader.readexactly(length)
    else:  # delimited by the end of the connection
        body = await reader.read(MAX_BODY_BYTES + 1)
        while len(body) <= MAX_BODY_BYTES and not reader.at_eof():
            more = await reader.read(MAX_BODY_BYTES + 1 - len(body))
            if not more:
                break
            body += more
        if len(body) > MAX_BODY_BYTES:
            raise ValueError("answer too large")
        keep_alive = False
    return status, headers, body, keep_alive


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    size_total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailer fields, ignored
                pass
            return b"".join(parts)
        size_total += size
        if size_total > MAX_BODY_BYTES:
            raise ValueError("answer too large")
        chunk = await reader.readexactly(size + 2)
        parts.append(chunk[:-2])


class PeerClient(Protocol):
    """What the outbox sender needs of an HTTP client (``httpx.AsyncClient`` has it)."""

    async def post(self, url: str, *, content: bytes, headers: dict[str, str]) -> httpx.Response: ...

    async def aclose(self) -> None: ...


class LeanPeerClient:
    """POSTs through :class:`PeerTransport` without httpx's client layer (URL merging, cookies, hooks)."""

    def __init__(self, timeout: float, transport: PeerTransport | None = None) -> None:
        self._timeout = timeout
        self._transport = transport or PeerTransport()

    async def post(self, url: str, *, content: bytes, headers: dict[str, str]) -> httpx.Response:
        """POST ``content`` to ``url``; the answer is read completely."""
        try:
            parts = urlsplit(url)
            port = parts.port
            host = parts.hostname or ""
            target = ((parts.path or "/") + (f"?{parts.query}" if parts.query else "")).encode("ascii")
            netloc = parts.netloc.rpartition("@")[2].encode("ascii")
        except UnicodeEncodeError:  # leave percent-encoding and IDNA to httpx
            parsed = httpx.URL(url)
            parts, port, host = urlsplit(str(parsed)), parsed.port, parsed.host
            target, netloc = parsed.raw_path, parsed.netloc
        if parts.scheme not in ("http", "https") or not host:
            raise httpx.UnsupportedProtocol(f"cannot send to {url!r}")
        origin = (parts.scheme, host, port or (443 if parts.scheme == "https" else 80))
        raw = [(b"Host", netloc)]
        raw.append((b"Accept", b"*/*"))
        raw.append((b"User-Agent", USER_AGENT))
        raw.extend((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items())
        payload = _serialize("POST", target, raw, content)
        return await self._transport.exchange(origin, payload, None, self._timeout, self._timeout)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._transport.aclose()


def peer_client(transport: httpx.AsyncBaseTransport | None, timeout: float) -> PeerClient:
    """The client the outbox sends peer messages with.

    ``transport`` (tests: the in-process network) goes through ``httpx.AsyncClient``, and so does a
    node whose environment names a proxy; otherwise :class:`LeanPeerClient`.
    """
    if transport is None and not any(get_environment_proxies().values()):
        return LeanPeerClient(timeout)
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False)
