"""The crawler: keeps the federated catalog, a local copy of the catalogs of the nodes in this node's
directories as each of them shows it to this node's identity (and its membership credentials).

Concurrent (``crawl_concurrency`` nodes at a time), bounded (``crawl_timeout_seconds`` per node, so one
slow or dead node never holds up the others), incremental (``If-None-Match`` with the ETags of the last
visit; ``304`` changes nothing) and patient with failing nodes (exponential back-off per node).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from dataclasses import dataclass
from typing import Any

import httpx

from allmende.clock import utcnow
from allmende.network import federation
from allmende.network.extract import DatasetFields, dataset_fields
from allmende.network.federation import Visit
from allmende.network.targets import crawl_targets, joined_directories, own_directory_targets
from allmende.node import Node
from allmende.protocol.contexts import DSP_CONTEXT
from allmende.protocol.endpoint import in_read, in_transaction

log = logging.getLogger(__name__)

MAX_PAGES = 1000
_locks: weakref.WeakKeyDictionary[Node, asyncio.Lock] = weakref.WeakKeyDictionary()


class VisitError(Exception):
    """A node's catalog could not be fetched or read."""


@dataclass(frozen=True)
class CrawlReport:
    """What one crawl did. ``nodes_waiting``: nodes skipped because they are backing off."""

    nodes_seen: int
    nodes_updated: int
    nodes_unchanged: int
    nodes_failed: int
    datasets: int
    seconds: float
    nodes_waiting: int = 0
    nodes_dropped: int = 0


@dataclass(frozen=True)
class _Changed:
    etags: tuple[str, ...]
    datasets: tuple[DatasetFields, ...]


async def crawl(node: Node, *, full: bool = False) -> CrawlReport:
    """Visit every node of this node's directories that is due and update the federated catalog.

    ``full`` ignores ETags and back-off: every catalog is fetched anew. Crawls of one node run one
    at a time.
    """
    lock = _locks.setdefault(node, asyncio.Lock())
    async with lock:
        return await _crawl(node, full)


async def _crawl(node: Node, full: bool) -> CrawlReport:
    started = time.monotonic()
    local, joined = await in_read(node, lambda s: (own_directory_targets(s, node), joined_directories(s)))
    targets = await crawl_targets(node, local, joined)

    def plan(session: Any) -> tuple[int, list[Visit], int]:
        dropped = federation.sync_nodes(session, targets)
        visits, waiting = federation.due_visits(session, utcnow(), full=full)
        return dropped, visits, waiting

    dropped, visits, waiting = await in_transaction(node, plan)
    gate = asyncio.Semaphore(max(1, int(node.settings.crawl_concurrency)))
    unchanged: list[str] = []
    counts = {"updated": 0, "failed": 0}

    async def one(visit: Visit) -> None:
        async with gate:
            try:
                async with asyncio.timeout(float(node.settings.crawl_timeout_seconds) or None):
                    outcome = await _fetch(node, visit)
            except (VisitError, TimeoutError, ValueError) as exc:
                error = str(exc) or f"no complete answer within {node.settings.crawl_timeout_seconds} s"
                counts["failed"] += 1
                await in_transaction(node, lambda s: federation.record_failure(s, visit.did, error, utcnow()))
                return
            if outcome is None:
                unchanged.append(visit.did)
                return
            counts["updated"] += 1
            # Stored before the next node is fetched: fetched catalogs never queue up in memory
            # behind the database's single writer.
            await in_transaction(
                node,
                lambda s: federation.store_catalog(s, visit.did, outcome.etags, outcome.datasets, utcnow()),
            )

    await asyncio.gather(*(one(visit) for visit in visits))

    def finish(session: Any) -> int:
        federation.record_unchanged(session, unchanged, utcnow())
        return federation.dataset_count(session)

    datasets = await in_transaction(node, finish)
    report = CrawlReport(
        nodes_seen=len(targets.nodes),
        nodes_updated=counts["updated"],
        nodes_unchanged=len(unchanged),
        nodes_failed=counts["failed"],
        datasets=datasets,
        seconds=time.monotonic() - started,
        nodes_waiting=waiting,
        nodes_dropped=dropped,
    )
    log.info("crawl: %s", report)
    return report


async def _fetch(node: Node, visit: Visit) -> _Changed | None:
    """The node's catalog, or None when every page is unchanged since the last visit (304)."""
    result = await _pages(node, visit, visit.etags)
    if result is _REFETCH:
        result = await _pages(node, visit, ())
    if not isinstance(result, _Changed):
        if result is None:
            return None
        raise VisitError(f"{visit.dsp_url}: catalog pages changed while being read")
    return result


_REFETCH = object()


async def _pages(node: Node, visit: Visit, etags: tuple[str, ...]) -> _Changed | object | None:
    """Fetch the pages in order, following ``Link: rel="next"``; None when all of them answered 304
    and there are as many as last time. When unchanged and changed pages mix, the content of the
    unchanged ones is not at hand: then ``_REFETCH`` says to read the whole catalog again."""
    url: str | None = f"{visit.dsp_url}/catalog/request"
    seen: list[str] = []
    datasets: list[DatasetFields] = []
    not_modified = 0
    while url is not None:
        if len(seen) >= MAX_PAGES:
            raise VisitError(f"{visit.dsp_url}: catalog has more than {MAX_PAGES} pages")
        index = len(seen)
        headers = {"Authorization": "Bearer " + node.issue_token(visit.did)}
        if index < len(etags):
            headers["If-None-Match"] = etags[index]
        try:
            response = await node.http.post(
                url,
                json={"@context": DSP_CONTEXT, "@type": "CatalogRequestMessage", "filter": []},
                headers=headers,
            )
        except httpx.HTTPError as exc:
            raise VisitError(f"{visit.dsp_url} is not reachable: {type(exc).__name__} {exc}") from None
        if response.status_code == 304:
            if not_modified < index:
                return _REFETCH
            not_modified += 1
            seen.append(response.headers.get("etag") or etags[index])
        elif response.status_code == 200:
            if not_modified:
                return _REFETCH
            datasets.extend(_datasets(visit, response))
            seen.append(response.headers.get("etag", ""))
        else:
            raise VisitError(f"{visit.dsp_url} answered {response.status_code}: {response.text[:300]}")
        url = response.links.get("next", {}).get("url")
    if not_modified:
        return None if not_modified == len(etags) else _REFETCH
    return _Changed(tuple(seen) if all(seen) else (), tuple(datasets))


def _datasets(visit: Visit, response: httpx.Response) -> list[DatasetFields]:
    try:
        catalog = response.json()
    except ValueError as exc:
        raise VisitError(f"{visit.dsp_url} sent no JSON: {exc}") from None
    if not isinstance(catalog, dict) or catalog.get("@type") not in ("Catalog", "dcat:Catalog"):
        raise VisitError(f"{visit.dsp_url} sent no DSP Catalog")
    participant = catalog.get("participantId")
    if participant is not None and participant != visit.did:
        raise VisitError(f"{visit.dsp_url} answered as {participant!r}, not as {visit.did}")
    value = catalog.get("dataset", [])
    found = [
        dataset_fields(d, catalog)
        for d in (value if isinstance(value, list) else [value])
        if isinstance(d, dict)
    ]
    return [fields for fields in found if fields is not None]


async def crawl_forever(node: Node) -> None:
    """Crawl every ``crawl_interval_seconds`` while the node runs (the first crawl one interval, at most
    a minute, after start): the federated catalog, then the knowledge items of the same nodes. A failed
    crawl is logged; the loop goes on (and a failed catalog crawl does not skip the knowledge crawl)."""
    from allmende.knowledge.crawl import crawl_knowledge

    first = True
    while True:
        interval = float(node.settings.crawl_interval_seconds)
        if interval <= 0:
            return
        await asyncio.sleep(min(interval, 60.0) if first else interval)
        first = False
        try:
            await crawl(node)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("crawl of the federated catalog failed")
        try:
            await crawl_knowledge(node)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("crawl of the network's knowledge items failed")
