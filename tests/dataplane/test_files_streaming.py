"""``file_response`` as an ASGI app: byte counts when the client goes away, and constant memory."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import anyio
import psutil  # type: ignore[import-untyped]
import pytest
from starlette.requests import ClientDisconnect
from starlette.types import Message

from allmende.dataplane.files import file_response
from tests.dataplane.apps import MEDIA_TYPE

CHUNK = 4096


@pytest.fixture
def asset(tmp_path: Path) -> Path:
    path = tmp_path / "asset.bin"
    path.write_bytes(os.urandom(10 * CHUNK))
    return path


def assert_not_open(path: Path) -> None:
    assert str(path) not in {item.path for item in psutil.Process().open_files()}


@pytest.mark.anyio
async def test_asgi_2_4_disconnect_counts_only_accepted_chunks(asset: Path) -> None:
    counted: list[int] = []
    accepted: list[int] = []
    response = file_response(
        asset,
        range_header=None,
        media_type=MEDIA_TYPE,
        sha256_hex=None,
        chunk_size=CHUNK,
        on_bytes=counted.append,
    )

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            if len(accepted) == 3:
                raise OSError("client went away")
            accepted.append(len(message["body"]))

    async def receive() -> Message:
        raise AssertionError("ASGI 2.4 responses do not listen for disconnects")

    with pytest.raises(ClientDisconnect):
        await response({"type": "http", "asgi": {"spec_version": "2.4"}}, receive, send)
    assert sum(counted) == sum(accepted) == 3 * CHUNK
    assert_not_open(asset)


@pytest.mark.anyio
async def test_asgi_2_3_disconnect_stops_counting(asset: Path) -> None:
    """Like uvicorn: once the client is gone, ``send`` drops bodies silently and ``receive`` says so."""
    counted: list[int] = []
    delivered: list[int] = []
    gone = anyio.Event()
    response = file_response(
        asset,
        range_header="bytes=100-",
        media_type=MEDIA_TYPE,
        sha256_hex=None,
        chunk_size=CHUNK,
        on_bytes=counted.append,
    )

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and not gone.is_set():
            delivered.append(len(message["body"]))
            if len(delivered) == 2:
                gone.set()

    async def receive() -> Message:
        await gone.wait()
        return {"type": "http.disconnect"}

    await response({"type": "http", "asgi": {"spec_version": "2.3"}}, receive, send)
    assert counted == delivered == [CHUNK, CHUNK]
    assert_not_open(asset)


@pytest.mark.anyio
async def test_serving_200_mb_keeps_memory_flat(tmp_path: Path) -> None:
    size = 200 * 1024 * 1024
    path = tmp_path / "big.bin"
    with path.open("wb") as sparse:
        sparse.truncate(size)
    counted: list[int] = []
    streamed = 0

    async def send(message: Message) -> None:
        nonlocal streamed
        if message["type"] == "http.response.body":
            streamed += len(message["body"])

    async def receive() -> Message:
        raise AssertionError("not listened to under ASGI 2.4")

    tracemalloc.start()
    try:
        response = file_response(
            path, range_header=None, media_type=MEDIA_TYPE, sha256_hex=None, on_bytes=counted.append
        )
        await response({"type": "http", "asgi": {"spec_version": "2.4"}}, receive, send)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert streamed == sum(counted) == size
    assert peak < 4 * 1024 * 1024, f"peak traced memory {peak / 2**20:.1f} MiB"
