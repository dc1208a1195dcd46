"""HTTP API sources: the credential is added upstream only, the answer streams, failures are 502."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from allmende.sources.errors import SourceError
from allmende.sources.model import HttpApiSource, parse_source
from allmende.sources.secrets import SecretStore
from allmende.sources.stream import SourceStream
from allmende.sources.streams import open_stream
from tests.sources.streaming import read_all

pytestmark = pytest.mark.anyio

TOKEN = "Bearer top-secret-owner-token"
SOURCE = parse_source(
    {
        "kind": "http_api",
        "url": "https://erp.example.com/api/stock.json?site=7",
        "headers": {"Accept": "application/json"},
        "auth_header_name": "Authorization",
        "auth_secret": "secret:erp.token",
        "timeout": 5,
    }
)
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def secrets(tmp_path: Path) -> SecretStore:
    store = SecretStore.create(tmp_path / "store")
    store.put("erp.token", TOKEN)
    return store


def _client(handler: Handler, seen: list[httpx.Request]) -> httpx.AsyncClient:
    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(record))


def _visible(stream: SourceStream) -> str:
    return repr(stream) + repr({k: v for k, v in vars(stream).items() if not k.startswith("_")})


def _no_secret(exc: SourceError) -> None:
    for text in (str(exc), repr(exc), exc.reason, exc.detail or ""):
        assert TOKEN not in text
        assert "top-secret" not in text


async def test_the_credential_goes_upstream_and_nowhere_else(secrets: SecretStore) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"Content-Type": "application/json", "X-Internal-Host": "erp-7", "Set-Cookie": "s=1"},
            content=b'{"stock": 12}',
        )

    async with _client(answer, seen) as client:
        stream = await open_stream(SOURCE, secrets, http_client=client)
        assert await read_all(stream) == b'{"stock": 12}'
    [request] = seen
    assert request.headers["Authorization"] == TOKEN
    assert request.headers["Accept"] == "application/json"
    assert str(request.url) == "https://erp.example.com/api/stock.json?site=7"
    assert (stream.media_type, stream.size, stream.filename) == ("application/json", 13, "stock.json")
    visible = _visible(stream)
    assert "top-secret" not in visible
    assert "erp-7" not in visible and "Set-Cookie" not in visible


async def test_the_body_streams_in_pieces(secrets: SecretStore) -> None:
    async def body() -> AsyncIterator[bytes]:
        for index in range(50):
            yield bytes([index]) * 10_000

    seen: list[httpx.Request] = []
    async with _client(lambda request: httpx.Response(200, content=body()), seen) as client:
        stream = await open_stream(SOURCE, secrets, http_client=client)
        assert stream.size is None
        assert stream.media_type == "application/octet-stream"
        chunks = [chunk async for chunk in stream.chunks()]
    assert len(chunks) > 1
    assert b"".join(chunks) == b"".join(bytes([i]) * 10_000 for i in range(50))


@pytest.mark.parametrize("status", [500, 401, 404, 302])
async def test_an_upstream_failure_is_502_without_the_secret(secrets: SecretStore, status: int) -> None:
    seen: list[httpx.Request] = []

    def fail(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status,
            headers={"Location": "https://elsewhere.example/"},
            text=f"echo: {request.headers['Authorization']}",
        )

    async with _client(fail, seen) as client:
        with pytest.raises(SourceError, match=f"answered {status}") as caught:
            await open_stream(SOURCE, secrets, http_client=client)
    assert caught.value.status == 502
    assert len(seen) == 1  # a redirect is not followed: the credential goes nowhere else
    _no_secret(caught.value)


async def test_an_unreachable_upstream_is_502(secrets: SecretStore) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused while sending {request.headers['Authorization']}", request=request)

    async with _client(refuse, []) as client:
        with pytest.raises(SourceError, match="could not be reached") as caught:
            await open_stream(SOURCE, secrets, http_client=client)
    assert (caught.value.status, caught.value.detail) == (502, "ConnectError")
    _no_secret(caught.value)


async def test_an_upstream_timeout_is_502(secrets: SecretStore) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with _client(slow, []) as client:
        with pytest.raises(SourceError, match="in time") as caught:
            await open_stream(SOURCE, secrets, http_client=client)
    assert caught.value.status == 502


async def test_a_break_mid_body_is_a_source_error(secrets: SecretStore) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"first"
        raise httpx.ReadError("connection reset")

    async with _client(lambda request: httpx.Response(200, content=body()), []) as client:
        stream = await open_stream(SOURCE, secrets, http_client=client)
        with pytest.raises(SourceError, match="broke off") as caught:
            await read_all(stream)
    assert caught.value.status == 502


async def test_a_missing_credential_is_500_and_nothing_is_sent(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    async with _client(lambda request: httpx.Response(200), seen) as client:
        with pytest.raises(SourceError, match="credential is not available") as caught:
            await open_stream(SOURCE, SecretStore.create(tmp_path), http_client=client)
    assert caught.value.status == 500
    assert seen == []


async def test_a_credential_that_is_no_header_value_is_refused_unshown(secrets: SecretStore) -> None:
    secrets.put("erp.token", "top-secret\r\nX-Injected: 1")
    seen: list[httpx.Request] = []
    async with _client(lambda request: httpx.Response(200), seen) as client:
        with pytest.raises(SourceError, match="not a valid header value") as caught:
            await open_stream(SOURCE, secrets, http_client=client)
    _no_secret(caught.value)
    assert seen == []


async def test_a_source_without_auth_sends_only_its_headers(secrets: SecretStore) -> None:
    seen: list[httpx.Request] = []
    plain = HttpApiSource("http://localhost:9/open/", headers={"X-A": "1"})
    async with _client(lambda request: httpx.Response(200, content=b"ok"), seen) as client:
        stream = await open_stream(plain, secrets, http_client=client)
        assert await read_all(stream) == b"ok"
    assert "authorization" not in seen[0].headers
    assert seen[0].headers["X-A"] == "1"
    assert stream.filename == "open"
