"""Reading another node's catalog: find its DSP endpoint from its DID document, then ask, signed."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from typing import Any

import httpx

from allmende.identity import IdentityError, did_from_url
from allmende.node import Node
from allmende.protocol.schemas import DSP_CONTEXT, SchemaViolation, validate_message

MAX_PAGES = 100

_IN_FLIGHT: weakref.WeakKeyDictionary[Node, dict[str, asyncio.Future[RemoteCatalog]]] = (
    weakref.WeakKeyDictionary()
)


class RemoteCatalogError(Exception):
    """The other node could not be asked, or its answer is not a valid DSP catalog."""


@dataclass(frozen=True)
class RemoteCatalog:
    """A peer's catalog as it showed it to us."""

    provider_did: str
    dsp_url: str
    catalog: dict[str, Any]

    def datasets(self) -> list[dict[str, Any]]:
        """The catalog's datasets (top level only)."""
        value = self.catalog.get("dataset", [])
        return [d for d in (value if isinstance(value, list) else [value]) if isinstance(d, dict)]

    def find_offer(self, offer_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The (dataset, offer) pair whose offer has ``@id`` ``offer_id``."""
        for dataset in self.datasets():
            policies = dataset.get("hasPolicy", [])
            for offer in policies if isinstance(policies, list) else [policies]:
                if isinstance(offer, dict) and offer.get("@id") == offer_id:
                    return dataset, offer
        return None


async def locate(node: Node, address: str) -> tuple[str, str]:
    """(DID, DSP base URL) of the node at ``address`` (its public URL or its did:web)."""
    try:
        did = address if address.startswith("did:") else did_from_url(address)
        document = await node.resolver.resolve(did)
    except IdentityError as exc:
        raise RemoteCatalogError(f"cannot identify the node at {address}: {exc}") from None
    endpoint = next((str(svc.get("serviceEndpoint", "")) for svc in document.services("DataService")), "")
    if not endpoint:
        raise RemoteCatalogError(f"the DID document of {did} names no DSP DataService endpoint")
    return did, endpoint.rstrip("/")


async def fetch_catalog(
    node: Node, address: str, *, max_pages: int = MAX_PAGES, use_cache: bool = False
) -> RemoteCatalog:
    """The whole catalog of the node at ``address``, following ``Link: rel="next"`` pages.

    Every fetch refreshes the node's short-lived cache (``remote_catalog_cache_seconds``); with
    ``use_cache`` a catalog fetched within that time is answered from it (starting many negotiations
    with one provider then costs one catalog request, not one each).
    """
    key = address.rstrip("/")
    if not use_cache:
        return await _fetch(node, address, key, max_pages)
    cached = node.remote_catalogs.get(key)
    if cached is not None:
        return cached
    # Many negotiations started at once with a cold cache share one fetch instead of one each.
    fetches = _IN_FLIGHT.setdefault(node, {})
    task = fetches.get(key)
    if task is None or task.get_loop() is not asyncio.get_running_loop():
        task = asyncio.ensure_future(_fetch(node, address, key, max_pages))
        fetches[key] = task
        task.add_done_callback(lambda done: _forget(fetches, key, done))
    return await asyncio.shield(task)


def _forget(
    fetches: dict[str, asyncio.Future[RemoteCatalog]], key: str, done: asyncio.Future[RemoteCatalog]
) -> None:
    if fetches.get(key) is done:
        del fetches[key]
    if not done.cancelled():
        done.exception()  # retrieved here too: every waiter may have been cancelled meanwhile


async def _fetch(node: Node, address: str, key: str, max_pages: int) -> RemoteCatalog:
    did, dsp_url = await locate(node, address)
    url: str | None = f"{dsp_url}/catalog/request"
    merged: dict[str, Any] | None = None
    pages = 0
    while url is not None and pages < max_pages:
        pages += 1
        try:
            response = await node.http.post(
                url,
                json={"@context": DSP_CONTEXT, "@type": "CatalogRequestMessage", "filter": []},
                headers={"Authorization": "Bearer " + node.issue_token(did)},
            )
        except httpx.HTTPError as exc:
            raise RemoteCatalogError(f"{dsp_url} is not reachable: {type(exc).__name__} {exc}") from None
        if response.status_code != 200:
            raise RemoteCatalogError(f"{dsp_url} answered {response.status_code}: {response.text[:300]}")
        try:
            page = response.json()
            validate_message(page, "Catalog")
        except (ValueError, SchemaViolation) as exc:
            raise RemoteCatalogError(f"{dsp_url} sent an invalid catalog: {exc}") from None
        if merged is None:
            merged = page
        else:
            merged.setdefault("dataset", []).extend(page.get("dataset", []))
        url = response.links.get("next", {}).get("url")
    assert merged is not None
    remote = RemoteCatalog(did, dsp_url, merged)
    node.remote_catalogs.put(key, remote)
    return remote
