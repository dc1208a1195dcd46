"""The knowledge crawl: pulls the published knowledge items of the nodes in this node's directories into
the knowledge index. A sibling of the catalog crawler using its machinery (the same targets from the
directories' verified member lists, the same back-off, ETags with ``If-None-Match``, bounded
concurrency and a timeout per node). What a node no longer publishes leaves the index at its next visit.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
import httpx
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from allmende.clock import parse_datetime, utcnow
from allmende.knowledge import index
from allmende.knowledge.embeddings import Embedder, embedder, to_bytes
from allmende.knowledge.fields import item_fields
from allmende.knowledge.model import KnowledgeError, KnowledgeItem, parse_item
from allmende.knowledge.publication import PATH
from allmende.knowledge.records import KnowledgeSourceRecord
from allmende.knowledge.service import index_entry
from allmende.network.federation import MAX_ERROR_LENGTH, backoff_seconds
from allmende.network.targets import Targets, crawl_targets, joined_directories, own_directory_targets
from allmende.node import Node
from allmende.protocol.endpoint import in_read, in_transaction

log = logging.getLogger(__name__)
MAX_BYTES = 20_000_000
_META = frozenset({"@context", "@id", "@type", "version", "publisher", "modified", "checklist"})
_locks: weakref.WeakKeyDictionary[Node, asyncio.Lock] = weakref.WeakKeyDictionary()


class FetchError(Exception):
    """A node's published items could not be fetched or read."""


@dataclass(frozen=True)
class KnowledgeCrawlReport:
    """What one knowledge crawl did."""

    nodes_seen: int
    nodes_updated: int
    nodes_unchanged: int
    nodes_failed: int
    nodes_waiting: int
    items: int
    items_skipped: int
    seconds: float


@dataclass(frozen=True)
class Fetched:
    etag: str | None
    items: list[tuple[str, int, KnowledgeItem, dict[str, Any], datetime | None]]
    skipped: int


def read_documents(
    payload: Any,
) -> tuple[list[tuple[str, int, KnowledgeItem, dict[str, Any], datetime | None]], int]:
    """The valid items of a published list (id, version, item, document) and how many were skipped."""
    if not isinstance(payload, dict) or not isinstance(payload.get("@graph"), list):
        raise FetchError("the published list is not a JSON-LD document with an @graph")
    found = []
    skipped = 0
    for document in payload["@graph"]:
        try:
            if not isinstance(document, dict) or not isinstance(document.get("@id"), str):
                raise KnowledgeError("item without @id")
            item = parse_item({k: v for k, v in document.items() if k not in _META})
            version = document.get("version")
            modified = document.get("modified")
            found.append(
                (
                    document["@id"][:200],
                    version if isinstance(version, int) else 1,
                    item,
                    document,
                    parse_datetime(modified) if isinstance(modified, str) else None,
                )
            )
        except (KnowledgeError, ValueError) as exc:
            skipped += 1
            log.info("knowledge item skipped: %s", exc)
    return found, skipped


async def _fetch(node: Node, url: str, etag: str | None) -> Fetched | None:
    headers = {"If-None-Match": etag} if etag else {}
    try:
        response = await node.http.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise FetchError(f"{url} is not reachable: {type(exc).__name__} {exc}") from None
    if response.status_code == 304:
        return None
    if response.status_code == 404:
        return Fetched(None, [], 0)  # a node without the knowledge hub publishes nothing
    if response.status_code != 200:
        raise FetchError(f"{url} answered {response.status_code}")
    if len(response.content) > MAX_BYTES:
        raise FetchError(f"{url} sent more than {MAX_BYTES} bytes")
    try:
        payload = response.json()
    except ValueError as exc:
        raise FetchError(f"{url} sent no JSON: {exc}") from None
    items, skipped = read_documents(payload)
    return Fetched(response.headers.get("etag"), items, skipped)


def _sync_sources(session: Session, targets: Targets) -> None:
    known = {r.did: r for r in session.execute(select(KnowledgeSourceRecord)).scalars()}
    for target in targets.nodes:
        url = target.dsp_url.removesuffix("/dsp").rstrip("/") + PATH
        record = known.get(target.did)
        if record is None:
            session.add(KnowledgeSourceRecord(did=target.did, name=target.name, url=url, items=0, failures=0))
        else:
            if record.url != url:
                record.etag = None
            record.name, record.url = target.name, url
    if not targets.unavailable_directories:  # else members of an unreadable directory are kept
        wanted = {t.did for t in targets.nodes}
        for did in set(known) - wanted:
            index.drop(session, did)
            session.execute(delete(KnowledgeSourceRecord).where(KnowledgeSourceRecord.did == did))
    session.flush()


async def crawl_knowledge(node: Node, *, full: bool = False) -> KnowledgeCrawlReport:
    """Visit every node in this node's directories that is due and update the knowledge index."""
    lock = _locks.setdefault(node, asyncio.Lock())
    # Loading the model takes a while the first time: on a worker thread, not in the event loop.
    model = await anyio.to_thread.run_sync(embedder) if node.settings.semantic_search else None
    async with lock:
        return await _crawl(node, full, model)


async def _crawl(node: Node, full: bool, model: Embedder | None) -> KnowledgeCrawlReport:
    started = time.monotonic()
    local, joined = await in_read(node, lambda s: (own_directory_targets(s, node), joined_directories(s)))
    targets = await crawl_targets(node, local, joined)

    def plan(session: Session) -> tuple[list[tuple[str, str, str, str | None]], int]:
        _sync_sources(session, targets)
        now, due, waiting = utcnow(), [], 0
        for r in session.execute(select(KnowledgeSourceRecord).order_by(KnowledgeSourceRecord.did)).scalars():
            if not full and r.next_attempt_at is not None and r.next_attempt_at > now:
                waiting += 1
            else:
                due.append((r.did, r.name, r.url, None if full else r.etag))
        return due, waiting

    due, waiting = await in_transaction(node, plan)
    gate = asyncio.Semaphore(max(1, int(node.settings.crawl_concurrency)))
    counts = {"updated": 0, "unchanged": 0, "failed": 0, "skipped": 0}

    async def one(did: str, name: str, url: str, etag: str | None) -> None:
        async with gate:
            try:
                async with asyncio.timeout(float(node.settings.crawl_timeout_seconds) or None):
                    fetched = await _fetch(node, url, etag)
            except (FetchError, TimeoutError) as exc:
                counts["failed"] += 1
                error = str(exc) or f"no complete answer within {node.settings.crawl_timeout_seconds} s"
                await in_transaction(node, lambda s: _failed(s, did, error))
                return
        if fetched is None:
            counts["unchanged"] += 1
            await in_transaction(node, lambda s: _succeeded(s, did, None, keep_etag=True))
            return
        counts["updated"] += 1
        counts["skipped"] += fetched.skipped
        known = await in_read(node, lambda s: index.known_embeddings(s, did))
        entries = await anyio.to_thread.run_sync(lambda: _entries(fetched, known, model))

        def store(session: Session) -> None:
            index.replace_node(session, did, name, entries, utcnow())
            _succeeded(session, did, fetched.etag, items=len(entries))

        await in_transaction(node, store)

    await asyncio.gather(*(one(*visit) for visit in due))
    total = await in_read(node, index.count)
    return KnowledgeCrawlReport(
        nodes_seen=len(targets.nodes),
        nodes_updated=counts["updated"],
        nodes_unchanged=counts["unchanged"],
        nodes_failed=counts["failed"],
        nodes_waiting=waiting,
        items=total,
        items_skipped=counts["skipped"],
        seconds=time.monotonic() - started,
    )


EMBED_BATCH = 32


def _entries(
    fetched: Fetched, known: dict[str, tuple[str, bytes, str]], model: Embedder | None
) -> list[index.IndexEntry]:
    """The index entries of fetched items; the changed ones embedded in batches, the others keep theirs."""
    if model is not None:
        changed = [
            (item_id, item, index.content_hash(document))
            for item_id, _, item, document, _ in fetched.items
            if (found := known.get(item_id)) is None
            or found[0] != index.content_hash(document)
            or found[2] != model.name
        ]
        for start in range(0, len(changed), EMBED_BATCH):
            batch = changed[start : start + EMBED_BATCH]
            vectors = model.passages([item_fields(item).passage for _, item, _ in batch])
            for (item_id, _, digest), vector in zip(batch, vectors, strict=True):
                known[item_id] = (digest, to_bytes(vector), model.name)
    return [
        index_entry(item, item_id, version, document, modified, model, known.get(item_id))
        for item_id, version, item, document, modified in fetched.items
    ]


def _succeeded(
    session: Session, did: str, etag: str | None, *, keep_etag: bool = False, items: int | None = None
) -> None:
    record = session.get(KnowledgeSourceRecord, did)
    if record is None:
        return
    now = utcnow()
    record.last_attempt_at = record.last_success_at = now
    record.failures, record.next_attempt_at, record.last_error = 0, None, None
    if not keep_etag:
        record.etag = etag
    if items is not None:
        record.items = items


def _failed(session: Session, did: str, error: str) -> None:
    record = session.get(KnowledgeSourceRecord, did)
    if record is None:
        return
    now = utcnow()
    record.failures = (record.failures or 0) + 1
    record.last_attempt_at = now
    record.last_error = error[:MAX_ERROR_LENGTH]
    record.next_attempt_at = now + timedelta(seconds=backoff_seconds(record.failures))
