"""``download`` against in-process servers: the real ``file_response`` app and scripted answers."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from allmende.dataplane.digests import sha256_field
from allmende.dataplane.download import DigestMismatch, DownloadError, DownloadResult, download
from tests.dataplane.apps import BreakingApp, file_app

CONTENT = os.urandom(50_000)
SHA = hashlib.sha256(CONTENT).hexdigest()
URL = "http://provider/data/t-1"
AUTH = {"Authorization": "Bearer secret"}


class RecordingSink:
    """A ProgressSink that records its calls and checks the destination stays absent meanwhile."""

    def __init__(self, destination: Path) -> None:
        self.destination = destination
        self.calls: list[tuple[str, int | None, int]] = []

    def start(self, total: int | None, already: int) -> None:
        self.calls.append(("start", total, already))

    def advance(self, n: int) -> None:
        assert not self.destination.exists()
        self.calls.append(("advance", None, n))

    def finish(self) -> None:
        self.calls.append(("finish", None, 0))

    def advanced(self) -> int:
        return sum(n for name, _, n in self.calls if name == "advance")


@pytest.fixture
def asset(tmp_path: Path) -> Path:
    path = tmp_path / "provider" / "asset.bin"
    path.parent.mkdir()
    path.write_bytes(CONTENT)
    return path


@pytest.fixture
def destination(tmp_path: Path) -> Path:
    return tmp_path / "asset.bin.download"


def part_of(destination: Path) -> Path:
    return destination.with_name(destination.name + ".part")


async def fetch(app: object, destination: Path, **options: object) -> DownloadResult:
    options.setdefault("headers", AUTH)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:  # type: ignore[arg-type]
        return await download(client, URL, destination, retry_delay=0, **options)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_full_download(asset: Path, destination: Path) -> None:
    sink = RecordingSink(destination)
    result = await fetch(
        file_app(asset, sha256_hex=SHA, token="secret"), destination, progress=sink, chunk_size=8192
    )
    assert result == DownloadResult(size=50_000, sha256_hex=SHA, resumed=False, attempts=1)
    assert destination.read_bytes() == CONTENT
    assert not part_of(destination).exists()
    assert sink.calls[0] == ("start", 50_000, 0)
    assert sink.calls[-1] == ("finish", None, 0)
    assert sink.advanced() == 50_000


@pytest.mark.anyio
async def test_empty_file(tmp_path: Path, destination: Path) -> None:
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    sha = hashlib.sha256(b"").hexdigest()
    result = await fetch(file_app(empty, sha256_hex=sha), destination, headers={"accept-encoding": "gzip"})
    assert result == DownloadResult(size=0, sha256_hex=sha, resumed=False, attempts=1)
    assert destination.read_bytes() == b""


@pytest.mark.anyio
async def test_resumes_from_an_existing_part(asset: Path, destination: Path) -> None:
    part_of(destination).write_bytes(CONTENT[:20_000])
    app = BreakingApp(file_app(asset, sha256_hex=SHA), after=0, breaks=0)
    sink = RecordingSink(destination)
    result = await fetch(app, destination, progress=sink, chunk_size=7)
    assert result == DownloadResult(size=50_000, sha256_hex=SHA, resumed=True, attempts=1)
    assert app.requests == [("bytes=20000-", None)]
    assert destination.read_bytes() == CONTENT
    assert sink.calls[0] == ("start", 50_000, 20_000)
    assert sink.advanced() == 30_000


@pytest.mark.anyio
async def test_complete_part_is_only_verified(asset: Path, destination: Path) -> None:
    part_of(destination).write_bytes(CONTENT)
    result = await fetch(file_app(asset, sha256_hex=SHA), destination)
    assert result == DownloadResult(size=50_000, sha256_hex=SHA, resumed=True, attempts=1)
    assert destination.read_bytes() == CONTENT


@pytest.mark.anyio
async def test_part_longer_than_the_file_starts_over(asset: Path, destination: Path) -> None:
    part_of(destination).write_bytes(CONTENT + b"stale tail")
    result = await fetch(file_app(asset, sha256_hex=SHA), destination)
    assert result == DownloadResult(size=50_000, sha256_hex=SHA, resumed=False, attempts=2)
    assert destination.read_bytes() == CONTENT


@pytest.mark.anyio
async def test_server_ignoring_range_means_start_over(destination: Path) -> None:
    part_of(destination).write_bytes(b"old bytes of another file")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"50000")]})
        await send({"type": "http.response.body", "body": CONTENT})

    result = await fetch(app, destination)
    assert result == DownloadResult(size=50_000, sha256_hex=SHA, resumed=False, attempts=1)
    assert destination.read_bytes() == CONTENT


@pytest.mark.anyio
async def test_lying_server_gives_digest_mismatch_and_keeps_nothing(asset: Path, destination: Path) -> None:
    lie = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(DigestMismatch) as caught:
        await fetch(file_app(asset, sha256_hex=lie), destination)
    assert (caught.value.expected, caught.value.actual) == (lie, SHA)
    assert not destination.exists()
    assert not part_of(destination).exists()


@pytest.mark.anyio
async def test_stale_part_is_caught_by_the_digest(asset: Path, destination: Path) -> None:
    part_of(destination).write_bytes(b"x" * 20_000)
    with pytest.raises(DigestMismatch):
        await fetch(file_app(asset, sha256_hex=SHA), destination)
    assert not destination.exists()
    assert not part_of(destination).exists()


@pytest.mark.anyio
async def test_refusal_carries_the_reason_and_is_not_retried(asset: Path, destination: Path) -> None:
    app = BreakingApp(file_app(asset, sha256_hex=SHA, token="other"), after=0, breaks=0)
    sink = RecordingSink(destination)
    with pytest.raises(DownloadError) as caught:
        await fetch(app, destination, progress=sink)
    assert (caught.value.status, caught.value.reason) == (401, "access token rejected")
    assert len(app.requests) == 1
    assert not destination.exists()
    assert not part_of(destination).exists()
    assert sink.calls == [("finish", None, 0)]


@pytest.mark.anyio
async def test_refusal_keeps_an_existing_part(asset: Path, destination: Path) -> None:
    part_of(destination).write_bytes(CONTENT[:100])
    asset.unlink()
    with pytest.raises(DownloadError) as caught:
        await fetch(file_app(asset, sha256_hex=SHA), destination)
    assert caught.value.status == 404
    assert part_of(destination).read_bytes() == CONTENT[:100]


def scripted(answers: list[httpx.Response], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[len(seen) - 1]

    return httpx.MockTransport(handler)


class BrokenBody(httpx.AsyncByteStream):
    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


@pytest.mark.anyio
async def test_file_changed_between_requests_starts_over(destination: Path) -> None:
    old = hashlib.sha256(b"old").hexdigest()
    first = {"content-length": "50000", "repr-digest": sha256_field(old), "etag": f'"sha256-{old}"'}
    answers = [
        httpx.Response(200, headers=first, stream=BrokenBody(b"o" * 100)),
        httpx.Response(
            206,
            headers={"content-range": "bytes 100-49999/50000", "repr-digest": sha256_field(SHA)},
            content=CONTENT[100:],
        ),
        httpx.Response(200, headers={"repr-digest": sha256_field(SHA)}, content=CONTENT),
    ]
    seen: list[httpx.Request] = []
    async with httpx.AsyncClient(transport=scripted(answers, seen)) as client:
        result = await download(client, URL, destination, headers=AUTH, retry_delay=0)
    assert result == DownloadResult(size=50_000, sha256_hex=SHA, resumed=False, attempts=3)
    assert [(r.headers.get("range"), r.headers.get("if-range")) for r in seen] == [
        (None, None),
        ("bytes=100-", f'"sha256-{old}"'),
        (None, None),
    ]
    assert all(r.headers["authorization"] == "Bearer secret" for r in seen)
    assert destination.read_bytes() == CONTENT


@pytest.mark.anyio
async def test_gives_up_after_max_retries(destination: Path) -> None:
    attempts: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        with pytest.raises(DownloadError, match="gave up after 3 attempts") as caught:
            await download(client, URL, destination, headers={}, max_retries=2, retry_delay=0)
    assert caught.value.status is None
    assert len(attempts) == 3
    assert not part_of(destination).exists()


@pytest.mark.anyio
async def test_garbled_digest_is_a_download_error(destination: Path) -> None:
    answers = [httpx.Response(200, headers={"repr-digest": "sha-256=:AAAA:"}, content=b"x")]
    async with httpx.AsyncClient(transport=scripted(answers, [])) as client:
        with pytest.raises(DownloadError, match="32"):
            await download(client, URL, destination, headers={})
    assert not destination.exists()


@pytest.mark.anyio
async def test_bad_arguments_are_rejected(destination: Path) -> None:
    async with httpx.AsyncClient() as client:
        for options in ({"max_retries": -1}, {"chunk_size": 0}, {"retry_delay": -1.0}):
            with pytest.raises(ValueError):
                await download(client, URL, destination, headers={}, **options)
