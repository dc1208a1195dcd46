"""Test servers: a Starlette app serving one file with ``file_response``, and one that breaks."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from allmende.dataplane.files import AssetChanged, AssetMissing, file_response

MEDIA_TYPE = "application/octet-stream"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_app(
    path: Path,
    *,
    sha256_hex: str | None,
    on_bytes: Callable[[int], None] | None = None,
    chunk_size: int = 1 << 20,
    token: str | None = None,
) -> Starlette:
    """Serves ``path`` at ``/data/{transfer_id}``; with ``token``, only to ``Bearer <token>``."""

    async def data(request: Request) -> Response:
        if token is not None and request.headers.get("authorization") != f"Bearer {token}":
            return JSONResponse({"reason": "access token rejected"}, status_code=401)
        try:
            return file_response(
                path,
                range_header=request.headers.get("range"),
                if_range=request.headers.get("if-range"),
                media_type=MEDIA_TYPE,
                sha256_hex=sha256_hex,
                chunk_size=chunk_size,
                on_bytes=on_bytes,
            )
        except AssetMissing as exc:
            return JSONResponse({"reason": str(exc)}, status_code=404)
        except AssetChanged as exc:
            return JSONResponse({"reason": str(exc)}, status_code=410)

    return Starlette(routes=[Route("/data/{transfer_id}", data)])


class BreakingApp:
    """Wraps an app: the first ``breaks`` responses stop after ``after`` body bytes (the app raises,
    so the server drops the connection mid-body). Records each request's Range and If-Range."""

    def __init__(self, app: ASGIApp, *, after: int, breaks: int = 1) -> None:
        self.app = app
        self.after = after
        self.breaks = breaks
        self.requests: list[tuple[str | None, str | None]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = {key.decode(): value.decode() for key, value in scope["headers"]}
        self.requests.append((headers.get("range"), headers.get("if-range")))
        if len(self.requests) > self.breaks:
            await self.app(scope, receive, send)
            return
        sent = 0

        async def limited_send(message: Message) -> None:
            nonlocal sent
            if message["type"] == "http.response.body":
                body: bytes = message.get("body", b"")
                room = self.after - sent
                if len(body) >= room:
                    await send({"type": "http.response.body", "body": body[:room], "more_body": True})
                    raise ConnectionAbortedError("test server drops the connection")
                sent += len(body)
            await send(message)

        await self.app(scope, receive, limited_send)
