"""did:web resolution over HTTP with a TTL cache, request coalescing and pinned participants."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from allmende.identity.did import did_document_url, is_loopback_host
from allmende.identity.did_document import DidDocument, split_did_url
from allmende.identity.errors import DidError, ResolutionError, UnknownVerificationMethodError
from allmende.identity.key_encoding import public_key_to_multibase

__all__ = ["DidResolver", "ResolutionError"]


@dataclass(frozen=True)
class _CacheEntry:
    document: DidDocument
    fetched_at: float


class DidResolver:
    """Resolves did:web DIDs to DID documents and DID URLs (``kid``) to Ed25519 keys.

    Documents are fetched with ``client`` from ``did_document_url(did)`` (https; http only for loopback
    hosts, and loopback only if ``allow_loopback``), redirects are not followed, bodies above
    ``max_document_bytes`` are refused, and the document's ``id`` must equal the DID. Successful results
    are cached for ``cache_ttl_seconds``; concurrent requests for one DID share one fetch; failures are
    not cached. ``pinned`` maps DIDs of trusted participants to a DID document or to their one key
    (accepted for any key id of that DID); pinned DIDs never touch the network.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        cache_ttl_seconds: float = 300,
        pinned: Mapping[str, DidDocument | Ed25519PublicKey] | None = None,
        max_document_bytes: int = 100_000,
        timeout_seconds: float = 10,
        min_refetch_interval_seconds: float = 10,
        allow_loopback: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = cache_ttl_seconds
        self._max_bytes = max_document_bytes
        self._timeout = timeout_seconds
        self._min_refetch = min_refetch_interval_seconds
        self._allow_loopback = allow_loopback
        self._clock = clock
        self._cache: dict[str, _CacheEntry] = {}
        self._inflight: dict[str, asyncio.Task[DidDocument]] = {}
        self._pinned_documents: dict[str, DidDocument] = {}
        self._pinned_keys: dict[str, Ed25519PublicKey] = {}
        self.set_pinned(pinned or {})

    def set_pinned(self, pinned: Mapping[str, DidDocument | Ed25519PublicKey]) -> None:
        """Replace the pinned participants (e.g. after the owner changed them at run time).

        Checks every entry first, so a bad one leaves the previous set in place (raises DidError).
        """
        documents: dict[str, DidDocument] = {}
        keys: dict[str, Ed25519PublicKey] = {}
        for did, pin in pinned.items():
            if isinstance(pin, DidDocument):
                if pin.id != did:
                    raise DidError(f"pinned DID document for {did} has id {pin.id}")
                documents[did] = pin
            else:
                keys[did] = pin
                documents[did] = _document_for_pinned_key(did, pin)
        # Swapped whole, so a concurrent resolve sees either the old or the new set.
        self._pinned_keys, self._pinned_documents = keys, documents

    @property
    def pinned_dids(self) -> list[str]:
        """The DIDs that are pinned (resolved without the network), sorted."""
        return sorted(self._pinned_documents)

    async def resolve(self, did: str) -> DidDocument:
        """Return the DID document of ``did``; raises ResolutionError with the reason on failure."""
        pinned = self._pinned_documents.get(did)
        if pinned is not None:
            return pinned
        cached = self._cache.get(did)
        if cached is not None and self._clock() - cached.fetched_at < self._ttl:
            return cached.document
        task = self._inflight.get(did)
        if task is None:
            task = asyncio.ensure_future(self._fetch(did))
            self._inflight[did] = task
            task.add_done_callback(lambda done: self._forget_inflight(did, done))
        return await asyncio.shield(task)

    def invalidate(self, did: str) -> None:
        """Drop the cached document of ``did`` so the next resolve fetches it again."""
        self._cache.pop(did, None)

    async def public_key(self, kid: str) -> Ed25519PublicKey:
        """Return the key of verification method ``kid`` (``did#fragment``).

        If a cached document lacks ``kid`` and is older than ``min_refetch_interval_seconds``, it is
        fetched once more (the peer may have rotated its key). Raises ResolutionError otherwise.
        """
        try:
            did, _ = split_did_url(kid)
        except DidError as error:
            raise ResolutionError(kid, error.reason) from error
        pinned_key = self._pinned_keys.get(did)
        if pinned_key is not None:
            return pinned_key
        document = await self.resolve(did)
        try:
            return document.verification_key(kid)
        except UnknownVerificationMethodError as error:
            if not self._may_refetch(did, document):
                raise ResolutionError(did, f"unknown kid {kid}") from error
        except DidError as error:
            raise ResolutionError(did, error.reason) from error
        self.invalidate(did)
        document = await self.resolve(did)
        try:
            return document.verification_key(kid)
        except UnknownVerificationMethodError as error:
            raise ResolutionError(did, f"unknown kid {kid}") from error
        except DidError as error:
            raise ResolutionError(did, error.reason) from error

    def _may_refetch(self, did: str, document: DidDocument) -> bool:
        entry = self._cache.get(did)
        return (
            entry is not None
            and entry.document is document
            and self._clock() - entry.fetched_at >= self._min_refetch
        )

    def _forget_inflight(self, did: str, task: asyncio.Task[DidDocument]) -> None:
        if self._inflight.get(did) is task:
            del self._inflight[did]
        if not task.cancelled():
            task.exception()  # mark as retrieved; waiters receive it through the shield

    async def _fetch(self, did: str) -> DidDocument:
        try:
            url = did_document_url(did)
        except DidError as error:
            raise ResolutionError(did, error.reason) from error
        host = urlsplit(url).hostname or ""
        if is_loopback_host(host) and not self._allow_loopback:
            raise ResolutionError(did, "loopback hosts are not allowed by this node's settings")
        body = await self._download(did, url)
        try:
            data = json.loads(body)
        except ValueError as error:
            raise ResolutionError(did, f"invalid JSON from {url}: {error}") from error
        try:
            document = DidDocument.parse(data)
        except DidError as error:
            raise ResolutionError(did, f"invalid DID document from {url}: {error.reason}") from error
        if document.id != did:
            raise ResolutionError(did, f"DID document from {url} has id {document.id!r}, not the DID")
        self._cache[did] = _CacheEntry(document, self._clock())
        return document

    async def _download(self, did: str, url: str) -> bytes:
        headers = {"Accept": "application/did+json, application/json"}
        try:
            async with self._client.stream(
                "GET", url, headers=headers, timeout=self._timeout, follow_redirects=False
            ) as response:
                if response.status_code != 200:
                    raise ResolutionError(did, f"HTTP {response.status_code} from {url}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self._max_bytes:
                    raise ResolutionError(did, f"DID document larger than {self._max_bytes} bytes")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > self._max_bytes:
                        raise ResolutionError(did, f"DID document larger than {self._max_bytes} bytes")
                return bytes(body)
        except httpx.TimeoutException as error:
            raise ResolutionError(did, f"timeout fetching {url}") from error
        except httpx.HTTPError as error:
            raise ResolutionError(did, f"network error fetching {url}: {error!r}") from error


def _document_for_pinned_key(did: str, public_key: Ed25519PublicKey) -> DidDocument:
    method = {
        "id": f"{did}#pinned",
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": public_key_to_multibase(public_key),
    }
    return DidDocument.parse({"id": did, "verificationMethod": [method]})
