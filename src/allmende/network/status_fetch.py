"""Fetching directories' revocation status lists: over the node's HTTP client, signature-checked, cached."""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

import httpx

from allmende.identity.errors import ResolutionError, TokenError
from allmende.identity.jws import decode_jwt, verify_signature
from allmende.identity.resolver import DidResolver
from allmende.network.credentials import CredentialError
from allmende.network.status_list import StatusList, StatusListError, read_status_list_credential
from allmende.ttl_cache import TtlCache

MAX_STATUS_LIST_LENGTH: Final = 4_000_000


class StatusLists:
    """The status lists of credential issuers, each reused for ``cache_seconds``."""

    def __init__(self, http: httpx.AsyncClient, resolver: DidResolver, cache_seconds: float) -> None:
        self._http = http
        self._resolver = resolver
        self._cache: TtlCache[tuple[str, str], StatusList] = TtlCache(cache_seconds)

    def forget(self, url: str, issuer: str) -> None:
        """Drop a cached list (e.g. after this node revoked a membership itself)."""
        self._cache.discard((url, issuer))

    async def get(self, url: str, issuer: str) -> StatusList:
        """The revocation list at ``url``, which ``issuer`` must have signed; raises CredentialError."""
        cached = self._cache.get((url, issuer))
        if cached is not None:
            return cached
        if urlsplit(url).scheme not in ("http", "https"):
            raise CredentialError("malformed", f"status list URL {url!r} is not an http(s) URL")
        try:
            response = await self._http.get(url, headers={"Accept": "application/vc+jwt"})
        except httpx.HTTPError as error:
            raise _unavailable(issuer, f"{type(error).__name__}") from error
        if response.status_code != 200:
            raise _unavailable(issuer, f"HTTP {response.status_code}")
        try:
            decoded = decode_jwt(response.text.strip(), max_length=MAX_STATUS_LIST_LENGTH)
            kid = decoded.header.get("kid")
            if not isinstance(kid, str) or kid.split("#", 1)[0] != issuer:
                raise TokenError(f"not signed by {issuer}")
            verify_signature(decoded, await self._resolver.public_key(kid))
            status = read_status_list_credential(decoded.claims, issuer=issuer)
        except (TokenError, ResolutionError, StatusListError) as error:
            raise _unavailable(issuer, str(getattr(error, "reason", error))) from error
        self._cache.put((url, issuer), status)
        return status


def _unavailable(issuer: str, why: str) -> CredentialError:
    return CredentialError(
        "unverifiable", f"revocation status of the membership credential of {issuer} cannot be checked: {why}"
    )
