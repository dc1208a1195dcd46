"""Downloading a file over HTTP with resume, retries and a digest check (consumer side).

Bytes go to ``<destination>.part``; only a complete file whose sha-256 matches the server's
``Repr-Digest`` (or ``Content-Digest`` of a 200) is fsynced and renamed onto ``destination``.
A ``.part`` left by an earlier run is resumed from. Without a strong ETag from this run (e.g. when
resuming such a left-over part) no ``If-Range`` is sent; if the file changed meanwhile, the
digest check catches the mix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx

from allmende.dataplane.answers import Step, Verdict, judge_response, reason_from_body
from allmende.dataplane.digests import MalformedDigest
from allmende.dataplane.partfile import PartFile
from allmende.dataplane.progress import ProgressSink
from allmende.dataplane.results import DigestMismatch, DownloadError, DownloadResult

__all__ = ["DigestMismatch", "DownloadError", "DownloadResult", "download"]

_ERROR_BODY_LIMIT = 64 * 1024
_MAX_DELAY = 10.0


class _IncompleteBody(Exception):
    """The body ended before the announced size."""


@dataclass
class _State:
    attempts: int = 0
    resumed: bool = False
    etag: str | None = None
    sha256_hex: str | None = None


async def download(
    client: httpx.AsyncClient,
    url: str,
    destination: Path,
    *,
    headers: Mapping[str, str],
    progress: ProgressSink | None = None,
    max_retries: int = 5,
    chunk_size: int = 1 << 20,
    retry_delay: float = 0.5,
) -> DownloadResult:
    """Download ``url`` to ``destination`` (see the module notes); ``headers`` go on every request.

    Broken connections are retried up to ``max_retries`` times (delay ``retry_delay``, doubling),
    each time asking for the missing bytes only. Raises :class:`DownloadError` for error answers
    (not retried; the ``.part`` is kept) and when retries run out, :class:`DigestMismatch` when the
    check fails (the ``.part`` is deleted).
    """
    if max_retries < 0 or chunk_size <= 0 or retry_delay < 0:
        raise ValueError("max_retries and retry_delay must not be negative, chunk_size must be positive")
    part = await PartFile.open(destination.with_name(destination.name + ".part"), chunk_size)
    state, failures = _State(), 0
    try:
        while True:
            state.attempts += 1
            try:
                if await _request_once(client, url, headers, part, state, progress, chunk_size):
                    break
            except (httpx.TransportError, _IncompleteBody) as exc:
                failures += 1
                if failures > max_retries:
                    raise DownloadError(None, f"gave up after {state.attempts} attempts: {exc}") from exc
                await anyio.sleep(min(retry_delay * 2 ** (failures - 1), _MAX_DELAY))
        actual = part.sha256_hex()
        if state.sha256_hex is not None and state.sha256_hex != actual:
            part.discard()
            raise DigestMismatch(state.sha256_hex, actual)
        size = part.size
        await part.commit(destination)
    except BaseException:
        part.close()
        raise
    finally:
        if progress is not None:
            progress.finish()
    return DownloadResult(size, actual, state.resumed, state.attempts)


async def _request_once(
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str],
    part: PartFile,
    state: _State,
    progress: ProgressSink | None,
    chunk_size: int,
) -> bool:
    """One GET; True when the part then holds the whole file."""
    offset = part.size
    request_headers = httpx.Headers(headers)
    request_headers["Accept-Encoding"] = "identity"  # ranges count the bytes as stored
    if offset:
        request_headers["Range"] = f"bytes={offset}-"
        if state.etag is not None:
            request_headers["If-Range"] = state.etag
    async with client.stream("GET", url, headers=request_headers) as response:
        try:
            verdict = judge_response(response.status_code, response.headers, offset)
        except MalformedDigest as exc:
            raise DownloadError(response.status_code, str(exc)) from exc
        if verdict.step is Step.FAIL:
            raise DownloadError(response.status_code, await _reason(response, verdict.problem))
        changed = (
            None not in (state.sha256_hex, verdict.sha256_hex) and state.sha256_hex != verdict.sha256_hex
        )
        if verdict.step is Step.APPEND and changed:  # the file changed between two requests
            verdict = Verdict(Step.REQUEST_AGAIN)
        state.sha256_hex = verdict.sha256_hex or state.sha256_hex
        etag = response.headers.get("etag")
        state.etag = etag if etag is not None and not etag.startswith("W/") else None
        state.resumed = verdict.step in (Step.APPEND, Step.COMPLETE)
        if verdict.step is Step.REQUEST_AGAIN:
            state.sha256_hex = state.etag = None
            await part.clear()
            return False
        if verdict.step is Step.COMPLETE:
            return True
        if verdict.step is Step.FROM_START and part.size:
            await part.clear()
        if progress is not None:
            progress.start(verdict.total, part.size)
        await _receive_body(response, part, progress, chunk_size)
        if verdict.total is not None and part.size != verdict.total:
            raise _IncompleteBody(f"received {part.size} of {verdict.total} bytes")
        return True


async def _receive_body(
    response: httpx.Response, part: PartFile, progress: ProgressSink | None, chunk_size: int
) -> None:
    """Append the body to the part in pieces of about ``chunk_size`` bytes; what arrived before a
    broken connection is still written, so that the next request resumes after it."""
    pending = bytearray()

    async def flush() -> None:
        await part.write(bytes(pending))
        if progress is not None:
            progress.advance(len(pending))
        pending.clear()

    try:
        async for piece in response.aiter_bytes():
            pending += piece
            if len(pending) >= chunk_size:
                await flush()
    finally:
        if pending:
            await flush()


async def _reason(response: httpx.Response, problem: str | None) -> str:
    """The reason an error answer gives in its JSON body, else ``problem`` or the status phrase."""
    fallback = problem or response.reason_phrase or "error"
    body = b""
    try:
        async for chunk in response.aiter_bytes():
            body += chunk[: _ERROR_BODY_LIMIT - len(body)]
            if len(body) >= _ERROR_BODY_LIMIT:
                break
        return reason_from_body(json.loads(body), fallback)
    except (httpx.HTTPError, ValueError):  # an error body that breaks off or is no JSON
        return fallback
