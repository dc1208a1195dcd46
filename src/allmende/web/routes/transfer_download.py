"""Downloading a transfer's data in the browser (consumer side).

Pull: this node fetches the data from the provider's data plane with the access token of the transfer's
data address and streams it through to the browser (constant memory; the browser's ``Range`` and
``If-Range`` are passed on, so an interrupted browser download can resume). The bytes received are
counted on the transfer's record, like the provider counts the bytes it serves. A folder served file
by file gets a page listing its files, each downloaded the same way. Push: the file the provider
delivered to this node is served from the data folder.

This node fetches only from the provider's own server (the origin of its DSP address), so that a
provider cannot make it request addresses of this node's network on a user's click.

Who may download: owners and members (``Editor``), not read-only users, because a download uses the
agreement (the provider logs each access, and a policy may count uses). The download is a GET, so that
browsers can save it as a file; it changes nothing but the byte count and is protected by the session
cookie (SameSite=Lax) without a CSRF token. The answer is always an attachment, sandboxed by its CSP,
so data from a provider is never shown as a page of this node.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import anyio
import httpx
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from allmende.dataplane.answers import reason_from_body
from allmende.dataplane.disposition import attachment
from allmende.node import Node
from allmende.protocol.endpoint import in_read, node_of
from allmende.transfer.messages import PUSH_FORMAT, read_data_address
from allmende.transfer.records import TransferRecord
from allmende.web.routes.transfer_views import remember_size
from allmende.web.security import Editor, WebDenied
from allmende.web.templating import N_, SECURITY_HEADERS, Page, render

router = APIRouter(include_in_schema=False)

_PASSED_ON = ("content-type", "content-length", "content-range", "accept-ranges", "etag", "last-modified")
_DIGESTS = ("repr-digest", "content-digest")
_ERROR_BODY_LIMIT = 16 * 1024
_UNSAFE = re.compile(r"[^\w.-]+")
_FILENAME = re.compile(r'filename="([^"]*)"')
_FILENAME_UTF8 = re.compile(r"filename\*=UTF-8''([^;\s]+)", re.IGNORECASE)
_TOTAL = re.compile(r"bytes [0-9]+-[0-9]+/([0-9]+)")
DOWNLOAD_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": "default-src 'none'; sandbox",
}
# Why the browser's download cannot happen now, by the transfer's state (pull transfers).
NOT_NOW = {
    "REQUESTED": N_("The provider has not started this transfer yet. Please try again in a moment."),
    "SUSPENDED": N_("This transfer is suspended; the data can be downloaded again once it is resumed."),
    "COMPLETED": N_(
        "This transfer is completed; its data can no longer be downloaded. Start a new transfer."
    ),
    "TERMINATED": N_("This transfer was terminated; its data can no longer be downloaded."),
}


def safe_filename(name: str | None, transfer_id: str, media_type: str | None) -> str:
    """A file name without paths or odd characters; made up from the transfer and type if none is left."""
    cleaned = _UNSAFE.sub("-", Path((name or "").replace("\\", "/")).name).strip(".-")[:120]
    if cleaned:
        return cleaned
    extension = mimetypes.guess_extension((media_type or "").split(";")[0].strip()) or ".bin"
    short = re.sub(r"[^A-Za-z0-9]", "", transfer_id.rsplit(":", 1)[-1])[:8] or "data"
    return f"transfer-{short}{extension}"


def offered_filename(disposition: str | None) -> str | None:
    """The file name a ``Content-Disposition`` offers (``filename*`` before ``filename``)."""
    utf8 = _FILENAME_UTF8.search(disposition or "")
    if utf8:
        return unquote(utf8.group(1))
    plain = _FILENAME.search(disposition or "")
    return plain.group(1) if plain else None


def _refusal(
    request: Request, page: Page, record: TransferRecord, message: str, reason: str, status: int
) -> Response:
    context = {"transfer": record, "message": message, "reason": reason}
    return render(request, "transfer_error.html", context, status=status, page=page)


async def _record(request: Request, transfer_id: str) -> TransferRecord:
    record = await in_read(node_of(request), lambda s: s.get(TransferRecord, transfer_id))
    if record is None:
        raise WebDenied(404, "This transfer does not exist.")
    return record


def _pull_address(request: Request, page: Page, record: TransferRecord) -> tuple[str, str] | Response:
    """(endpoint, token) to pull from, or the page saying why the data cannot be fetched now."""
    t = page.gettext
    if record.role != "consumer":
        message = t("Only data this node receives can be downloaded here; this node sends this data.")
        return _refusal(request, page, record, message, "", 409)
    if record.state != "STARTED":
        return _refusal(request, page, record, t(NOT_NOW.get(record.state, NOT_NOW["TERMINATED"])), "", 409)
    endpoint, token = read_data_address(record.data_address or {})
    if not endpoint.startswith(("http://", "https://")) or not token:
        message = t("The provider gave no address to fetch the data from.")
        return _refusal(request, page, record, message, "", 409)
    if _origin(endpoint) != _origin(record.counterparty_address):
        message = t(
            "The data address points to another server than the provider's own; "
            "this node does not fetch data from there."
        )
        return _refusal(request, page, record, message, endpoint, 409)
    return endpoint, token


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of ``url`` (default ports filled in)."""
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        port = None
    return parts.scheme, (parts.hostname or "").lower(), port


@router.get("/transfers/{transfer_id}/download")
async def download(request: Request, page: Editor, transfer_id: str, file: str = "") -> Response:
    """The data of a transfer as a file download (see the module notes)."""
    record = await _record(request, transfer_id)
    if record.role == "consumer" and record.format == PUSH_FORMAT:
        return _received_file(request, page, record)
    address = _pull_address(request, page, record)
    if isinstance(address, Response):
        return address
    endpoint, token = address
    url = f"{endpoint}/files/{quote(file, safe='/')}" if file else endpoint
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    for name in ("range", "if-range"):
        if request.headers.get(name):
            headers[name] = request.headers[name]
    node = node_of(request)
    try:
        upstream = await node.http.send(node.http.build_request("GET", url, headers=headers), stream=True)
    except httpx.HTTPError as exc:
        message = page.gettext("The provider could not be reached. Please try again later.")
        return _refusal(request, page, record, message, str(exc) or type(exc).__name__, 502)
    if upstream.status_code not in (200, 206):
        reason = await _error_reason(upstream)
        if upstream.status_code == 404 and not file and await _lists_files(node, endpoint, token):
            return RedirectResponse(f"/transfers/{transfer_id}/files", status_code=303)
        return _provider_refusal(request, page, record, upstream.status_code, reason)
    _remember_total(request, record.id, upstream)
    out = {name: upstream.headers[name] for name in _PASSED_ON + _DIGESTS if name in upstream.headers}
    out.setdefault("content-type", "application/octet-stream")
    given = offered_filename(upstream.headers.get("content-disposition"))
    name = safe_filename(file or given, record.id, out["content-type"])
    out["content-disposition"] = attachment(name)
    out.update(DOWNLOAD_HEADERS)
    return _PassedThrough(upstream, node, record.id, status_code=upstream.status_code, headers=out)


@router.get("/transfers/{transfer_id}/files")
async def folder_files(request: Request, page: Editor, transfer_id: str) -> Response:
    """The files of a folder the provider serves file by file, each with its download link."""
    record = await _record(request, transfer_id)
    address = _pull_address(request, page, record)
    if isinstance(address, Response):
        return address
    endpoint, token = address
    node = node_of(request)
    try:
        answer = await node.http.get(f"{endpoint}/files", headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        message = page.gettext("The provider could not be reached. Please try again later.")
        return _refusal(request, page, record, message, str(exc) or type(exc).__name__, 502)
    files = _listing(answer)
    if files is None:
        return _provider_refusal(
            request, page, record, answer.status_code, _reason_of(answer.content, answer)
        )
    return render(request, "transfer_files.html", {"transfer": record, "files": files})


def _listing(answer: httpx.Response) -> list[dict[str, Any]] | None:
    """The ``{"files": [{name, size}]}`` of a listing answer; None when it is not one."""
    if answer.status_code != 200:
        return None
    try:
        body = answer.json()
    except ValueError:
        return None
    entries = body.get("files") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        return None
    return [
        {"name": e["name"], "size": e.get("size") if isinstance(e.get("size"), int) else None}
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("name"), str) and e["name"]
    ]


async def _lists_files(node: Node, endpoint: str, token: str) -> bool:
    try:
        answer = await node.http.get(f"{endpoint}/files", headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError:
        return False
    return _listing(answer) is not None


def _provider_refusal(
    request: Request, page: Page, record: TransferRecord, status: int, reason: str
) -> Response:
    t = page.gettext
    if status in (401, 403):
        message, shown = t("The provider refused the download."), 403
    elif status in (404, 410):
        message, shown = t("The provider no longer serves this data."), 410
    else:
        message, shown = t("The provider could not deliver the data. Please try again later."), 502
    return _refusal(request, page, record, message, reason, shown)


async def _error_reason(upstream: httpx.Response) -> str:
    body = b""
    try:
        async for chunk in upstream.aiter_raw():
            body += chunk[: _ERROR_BODY_LIMIT - len(body)]
            if len(body) >= _ERROR_BODY_LIMIT:
                break
    except httpx.HTTPError:
        pass  # the body broke off: the reason uses what arrived, or the status
    finally:
        await upstream.aclose()
    return _reason_of(body, upstream)


def _reason_of(body: bytes, upstream: httpx.Response) -> str:
    fallback = f"HTTP {upstream.status_code} {upstream.reason_phrase}".strip()
    try:
        return reason_from_body(json.loads(body), fallback)
    except ValueError:
        return fallback


def _remember_total(request: Request, transfer_id: str, upstream: httpx.Response) -> None:
    if upstream.status_code == 200:
        length = upstream.headers.get("content-length", "")
        if length.isascii() and length.isdigit():
            remember_size(request, transfer_id, int(length))
        return
    match = _TOTAL.fullmatch(upstream.headers.get("content-range", "").strip())
    if match:
        remember_size(request, transfer_id, int(match.group(1)))


def _received_file(request: Request, page: Page, record: TransferRecord) -> Response:
    path = Path(record.received_file) if record.received_file else None
    if path is None or not path.is_file():
        message = page.gettext("No data has arrived for this transfer yet.")
        return _refusal(request, page, record, message, "", 409 if path is None else 410)
    # The receiver stores pushed files as "<transfer>-<name>": offer the provider's name.
    prefix = re.sub(r"[^A-Za-z0-9._-]+", "-", record.id) + "-"
    name = path.name[len(prefix) :] if path.name.startswith(prefix) else path.name
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(
        path,
        media_type=media_type,
        filename=safe_filename(name, record.id, media_type),
        headers=DOWNLOAD_HEADERS,
    )


class _PassedThrough(StreamingResponse):
    """The provider's body, passed on chunk by chunk and counted; the upstream answer is closed and
    the count written to the record however the browser's download ends."""

    def __init__(
        self,
        upstream: httpx.Response,
        node: Node,
        transfer_id: str,
        *,
        status_code: int,
        headers: dict[str, str],
    ) -> None:
        self._upstream = upstream
        self._node = node
        self._transfer_id = transfer_id
        super().__init__(self._chunks(), status_code=status_code, headers=headers)

    async def _chunks(self) -> AsyncIterator[bytes]:
        counter = self._node.bytes_counter(self._transfer_id)
        async for chunk in self._upstream.aiter_raw():
            counter(len(chunk))
            yield chunk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await self._upstream.aclose()
                await self._node.flush_bytes_served(self._transfer_id)
