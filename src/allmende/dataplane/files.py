"""Serving a file as a streamed HTTP response with byte ranges and digests (provider side).

The file is read in ``chunk_size`` pieces on a worker thread, so memory stays constant whatever the
file's size. ``on_bytes`` is told each chunk's size once the ASGI server's ``send`` accepted it. A
chunk is not counted when ``send`` fails (ASGI 2.4 servers raise ``OSError`` once the client is gone)
or is cancelled, nor after the server reported ``http.disconnect`` (ASGI 2.3 servers such as
uvicorn then drop body messages silently). "Accepted" means handed to the server's transport: the
bytes in socket buffers when a connection breaks are counted though the client may not get them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import BinaryIO

import anyio
import anyio.lowlevel
import anyio.to_thread
from starlette.responses import Response, StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from allmende.dataplane.plan import plan_serving

_Identity = tuple[int, int, int, int]


class AssetUnavailable(Exception):
    """The file behind an asset cannot be served."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"{path}: {detail}")
        self.path = path


class AssetMissing(AssetUnavailable):
    """The file does not exist or is not a regular file (map to 404)."""


class AssetChanged(AssetUnavailable):
    """The file is not the one that was offered, or changed while being served (map to 410)."""


def file_response(
    path: Path,
    *,
    range_header: str | None,
    media_type: str,
    sha256_hex: str | None,
    chunk_size: int = 1 << 20,
    on_bytes: Callable[[int], None] | None = None,
    if_range: str | None = None,
    expected_size: int | None = None,
) -> Response:
    """A 200, 206 or 416 response serving ``path`` (see ``allmende.dataplane.plan`` for headers).

    ``sha256_hex`` is the file's known digest (gives ETag and Repr-Digest; it is not re-checked);
    ``if_range`` is the request's ``If-Range``; ``expected_size``, when given, must match the file.
    Raises :class:`AssetMissing` or :class:`AssetChanged` before anything is sent; a change noticed
    while streaming aborts the body with :class:`AssetChanged` (the client sees a short body).
    """
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise AssetMissing(path, "no such file") from exc
    if not stat.S_ISREG(info.st_mode):
        raise AssetMissing(path, "not a regular file")
    if expected_size is not None and info.st_size != expected_size:
        raise AssetChanged(path, f"holds {info.st_size} bytes, the asset has {expected_size}")
    plan = plan_serving(
        info.st_size,
        range_header=range_header,
        if_range=if_range,
        media_type=media_type,
        sha256_hex=sha256_hex,
    )
    if plan.status == 416:
        return Response(status_code=416, headers=plan.headers)
    identity = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
    chunks = _read_chunks(path, identity, plan.start, plan.length, chunk_size)
    return _FileStreamingResponse(chunks, status_code=plan.status, headers=plan.headers, on_bytes=on_bytes)


class _FileStreamingResponse(StreamingResponse):
    """Counts body bytes the server accepted and closes the file however the response ends."""

    def __init__(
        self,
        chunks: AsyncGenerator[bytes, None],
        *,
        status_code: int,
        headers: dict[str, str],
        on_bytes: Callable[[int], None] | None,
    ) -> None:
        super().__init__(chunks, status_code=status_code, headers=headers)
        self._chunks = chunks
        self._on_bytes = on_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        disconnected = False

        async def watched_receive() -> Message:
            nonlocal disconnected
            message = await receive()
            disconnected = disconnected or message["type"] == "http.disconnect"
            return message

        async def counting_send(message: Message) -> None:
            body = message.get("body", b"") if message["type"] == "http.response.body" else b""
            if body:
                await anyio.lowlevel.checkpoint()  # a pending disconnect is noticed (and cancels) here
                if disconnected:
                    return
            await send(message)
            if body and self._on_bytes is not None:
                self._on_bytes(len(body))

        try:
            await super().__call__(scope, watched_receive, counting_send)
        finally:
            with anyio.CancelScope(shield=True):
                await self._chunks.aclose()


async def _read_chunks(
    path: Path, identity: _Identity, start: int, length: int, chunk_size: int
) -> AsyncGenerator[bytes, None]:
    handle = await anyio.to_thread.run_sync(_open_same, path, identity)
    try:
        position, end = start, start + length
        while position < end:
            data = await anyio.to_thread.run_sync(_read_at, handle, position, min(chunk_size, end - position))
            if not data:
                raise AssetChanged(path, "shrank while being served")
            position += len(data)
            yield data
    finally:
        handle.close()


def _open_same(path: Path, identity: _Identity) -> BinaryIO:
    try:
        handle = path.open("rb", buffering=0)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise AssetMissing(path, "removed before it was served") from exc
    info = os.fstat(handle.fileno())
    if (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns) != identity:
        handle.close()
        raise AssetChanged(path, "replaced or modified before it was served")
    return handle


def _read_at(handle: BinaryIO, position: int, size: int) -> bytes:
    handle.seek(position)
    return handle.read(size)
