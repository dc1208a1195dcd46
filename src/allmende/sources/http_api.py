"""An HTTP API asset: the provider calls the owner's API and streams the answer's body on.

The credential header is added here, on the provider, from the secret store; the consumer gets the
body and the upstream ``Content-Type`` only, never the owner's request or response headers.
Redirects are not followed (a custom auth header would go along to wherever they point); an
upstream failure of any kind is SourceError 502 whose reason and detail name no header or secret.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import unquote, urlsplit

import httpx

from allmende.sources.errors import SecretError, SourceError
from allmende.sources.model import HttpApiSource
from allmende.sources.secrets import SecretStore
from allmende.sources.stream import SourceStream


async def open_http_api(
    source: HttpApiSource, secrets: SecretStore, *, client: httpx.AsyncClient | None = None
) -> SourceStream:
    """A stream of the owner's API answer; ``client`` (not closed here) lets tests and the node share one."""
    headers = dict(source.headers)
    if source.auth_header_name is not None and source.auth_secret is not None:
        headers[source.auth_header_name] = _credential(source, secrets)
    own_client = client is None
    http = client if client is not None else httpx.AsyncClient()
    try:
        request = http.build_request(
            source.method, source.url, headers=headers, timeout=httpx.Timeout(source.timeout)
        )
        response = await http.send(request, stream=True, follow_redirects=False)
    except httpx.TimeoutException:
        await _close_client(http, own_client)
        raise SourceError(502, "the upstream API did not answer in time") from None
    except Exception as exc:
        await _close_client(http, own_client)
        raise SourceError(502, "the upstream API could not be reached", detail=type(exc).__name__) from None
    if not 200 <= response.status_code < 300:
        status = response.status_code
        await response.aclose()
        await _close_client(http, own_client)
        raise SourceError(502, f"the upstream API answered {status}", detail=f"upstream status {status}")

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_bytes():
                yield chunk
        except httpx.TimeoutException:
            raise SourceError(502, "the upstream API stopped sending in time") from None
        except httpx.HTTPError as exc:
            raise SourceError(502, "the upstream API's answer broke off", detail=type(exc).__name__) from None

    async def close() -> None:
        await response.aclose()
        await _close_client(http, own_client)

    return SourceStream(
        media_type=response.headers.get("content-type", "application/octet-stream"),
        size=_size(response),
        filename=_filename(source.url),
        body=body(),
        close=close,
    )


def _credential(source: HttpApiSource, secrets: SecretStore) -> str:
    assert source.auth_secret is not None
    try:
        value = secrets.get(source.auth_secret)
    except SecretError as exc:
        raise SourceError(500, "the asset's credential is not available", detail=str(exc)) from None
    if not value or any(c in value for c in "\r\n\0"):
        raise SourceError(500, "the asset's stored credential is not a valid header value")
    return value


def _size(response: httpx.Response) -> int | None:
    """The body's length when the upstream said it and sent it unencoded (decoded bytes are passed on)."""
    if response.headers.get("content-encoding", "identity").lower() != "identity":
        return None
    length = response.headers.get("content-length", "")
    return int(length) if length.isdigit() else None


def _filename(url: str) -> str:
    name = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
    return name if name and "/" not in name and "\\" not in name and name not in (".", "..") else "response"


async def _close_client(client: httpx.AsyncClient, own: bool) -> None:
    if own:
        await client.aclose()
