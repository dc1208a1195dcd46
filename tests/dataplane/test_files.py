"""Serving files with ``file_response`` through a Starlette app and httpx."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.types import Message

from allmende.dataplane.files import AssetChanged, AssetMissing, file_response
from tests.dataplane.apps import MEDIA_TYPE, file_app

CONTENT = os.urandom(10_000)
SHA = hashlib.sha256(CONTENT).hexdigest()
REPR_DIGEST = f"sha-256=:{base64.b64encode(hashlib.sha256(CONTENT).digest()).decode()}:"
URL = "http://provider/data/t-1"


@pytest.fixture
def asset(tmp_path: Path) -> Path:
    path = tmp_path / "asset.bin"
    path.write_bytes(CONTENT)
    return path


@pytest.fixture
async def sent() -> AsyncIterator[list[int]]:
    yield []


def client_for(asset: Path, sent: list[int], sha: str | None = SHA) -> httpx.AsyncClient:
    app = file_app(asset, sha256_hex=sha, on_bytes=sent.append, chunk_size=4096)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app))


@pytest.mark.anyio
async def test_full_answer_has_body_and_headers(asset: Path, sent: list[int]) -> None:
    async with client_for(asset, sent) as client:
        response = await client.get(URL)
    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["content-length"] == "10000"
    assert response.headers["content-type"] == MEDIA_TYPE
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == f'"sha256-{SHA}"'
    assert response.headers["repr-digest"] == REPR_DIGEST
    assert response.headers["content-digest"] == REPR_DIGEST
    assert "content-range" not in response.headers
    assert sent == [4096, 4096, 1808]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-99", 0, 99), ("bytes=9000-", 9000, 9999), ("bytes=-500", 9500, 9999)],
)
async def test_partial_answer(asset: Path, sent: list[int], header: str, start: int, end: int) -> None:
    async with client_for(asset, sent) as client:
        response = await client.get(URL, headers={"Range": header})
    assert response.status_code == 206
    assert response.content == CONTENT[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/10000"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.headers["repr-digest"] == REPR_DIGEST
    assert "content-digest" not in response.headers
    assert sum(sent) == end - start + 1


@pytest.mark.anyio
async def test_unsatisfiable_range_is_416(asset: Path, sent: list[int]) -> None:
    async with client_for(asset, sent) as client:
        response = await client.get(URL, headers={"Range": "bytes=10000-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */10000"
    assert response.content == b""
    assert sent == []


@pytest.mark.anyio
async def test_if_range_with_another_etag_sends_everything(asset: Path, sent: list[int]) -> None:
    async with client_for(asset, sent) as client:
        stale = await client.get(URL, headers={"Range": "bytes=5-", "If-Range": '"sha256-old"'})
        fresh = await client.get(URL, headers={"Range": "bytes=5-", "If-Range": f'"sha256-{SHA}"'})
    assert (stale.status_code, stale.content) == (200, CONTENT)
    assert (fresh.status_code, fresh.content) == (206, CONTENT[5:])


@pytest.mark.anyio
async def test_without_digest_no_etag_or_digests(asset: Path, sent: list[int]) -> None:
    async with client_for(asset, sent, sha=None) as client:
        response = await client.get(URL)
    assert response.content == CONTENT
    assert not {"etag", "repr-digest", "content-digest"} & set(response.headers)


def test_missing_file_and_directory_are_missing(tmp_path: Path) -> None:
    for path in (tmp_path / "nope.bin", tmp_path, tmp_path / "nope" / "deeper"):
        with pytest.raises(AssetMissing):
            file_response(path, range_header=None, media_type=MEDIA_TYPE, sha256_hex=None)


def test_file_of_another_size_is_changed(asset: Path) -> None:
    with pytest.raises(AssetChanged, match="holds 10000 bytes"):
        file_response(asset, range_header=None, media_type=MEDIA_TYPE, sha256_hex=SHA, expected_size=9)


@pytest.mark.anyio
async def test_file_replaced_after_the_response_was_built_aborts_it(asset: Path) -> None:
    response = file_response(asset, range_header=None, media_type=MEDIA_TYPE, sha256_hex=SHA)
    replacement = asset.with_name("new.bin")
    replacement.write_bytes(b"other")
    replacement.replace(asset)
    with pytest.raises(AssetChanged, match="replaced or modified"):
        await response({"type": "http", "asgi": {"spec_version": "2.4"}}, _never_receive, _discard)


@pytest.mark.anyio
async def test_file_truncated_while_served_aborts_it(asset: Path) -> None:
    response = file_response(asset, range_header=None, media_type=MEDIA_TYPE, sha256_hex=SHA, chunk_size=4096)

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            os.truncate(asset, 5000)

    with pytest.raises(AssetChanged, match="shrank"):
        await response({"type": "http", "asgi": {"spec_version": "2.4"}}, _never_receive, send)


def test_bad_arguments_are_rejected(asset: Path) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        file_response(asset, range_header=None, media_type=MEDIA_TYPE, sha256_hex=None, chunk_size=0)
    with pytest.raises(ValueError, match="sha-256"):
        file_response(asset, range_header=None, media_type=MEDIA_TYPE, sha256_hex="abc")


async def _never_receive() -> Message:
    raise AssertionError("the response must not read the request")


async def _discard(message: Message) -> None:
    return None
