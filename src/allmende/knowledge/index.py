"""The knowledge index's store: this node's published items and other nodes' as crawled, one row each."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from allmende.knowledge.analysis import search_terms
from allmende.knowledge.fields import ItemFields
from allmende.knowledge.records import KnowledgeIndexRecord

_version = [0]


def index_version() -> int:
    """Counts changes of the knowledge index made by this process (for the in-memory vectors)."""
    return _version[0]


@dataclass(frozen=True)
class IndexEntry:
    """One item to index: its fields, its JSON-LD document and (if the model ran) its embedding."""

    item_id: str
    version: int
    fields: ItemFields
    document: dict[str, Any]
    modified: datetime | None
    embedding: bytes | None = None
    embedding_model: str | None = None

    @property
    def content_hash(self) -> str:
        return content_hash(self.document)


def content_hash(document: dict[str, Any]) -> str:
    """The sha-256 of a document's canonical JSON (unchanged items keep their embeddings)."""
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def _values(entry: IndexEntry, node_did: str, node_name: str, now: datetime) -> dict[str, Any]:
    f = entry.fields
    title_terms, keyword_terms, body_terms = search_terms(f.title, f.keywords, f.body)
    return {
        "node_did": node_did,
        "node_name": node_name,
        "item_id": entry.item_id,
        "version": entry.version,
        "kind": f.kind,
        "title": f.title,
        "keywords": f.keywords,
        "body": f.body,
        "title_terms": title_terms,
        "keyword_terms": keyword_terms,
        "body_terms": body_terms,
        "status": f.status,
        "regions": " ".join(f.regions),
        "sectors": "\n".join(f.sectors),
        "sizes": " ".join(f.sizes),
        "document": entry.document,
        "content_hash": entry.content_hash,
        "embedding": entry.embedding,
        "embedding_model": entry.embedding_model,
        "modified": entry.modified,
        "updated_at": now,
    }


def put(session: Session, node_did: str, node_name: str, entry: IndexEntry, now: datetime) -> None:
    """Add or replace one item of ``node_did``."""
    _version[0] += 1
    values = _values(entry, node_did, node_name, now)
    # Replaced, not updated: a new row id tells other processes' in-memory indexes that it changed.
    session.execute(
        delete(KnowledgeIndexRecord).where(
            KnowledgeIndexRecord.node_did == node_did, KnowledgeIndexRecord.item_id == entry.item_id
        )
    )
    session.execute(insert(KnowledgeIndexRecord), [values])


def drop(session: Session, node_did: str, item_ids: Sequence[str] | None = None) -> int:
    """Remove ``item_ids`` of ``node_did`` (all of its items when None); how many rows went."""
    _version[0] += 1
    statement = delete(KnowledgeIndexRecord).where(KnowledgeIndexRecord.node_did == node_did)
    if item_ids is not None:
        statement = statement.where(KnowledgeIndexRecord.item_id.in_(list(item_ids)))
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def known_embeddings(session: Session, node_did: str) -> dict[str, tuple[str, bytes, str]]:
    """item id → (content hash, embedding, model) of a node's indexed items that have an embedding."""
    rows = session.execute(
        select(
            KnowledgeIndexRecord.item_id,
            KnowledgeIndexRecord.content_hash,
            KnowledgeIndexRecord.embedding,
            KnowledgeIndexRecord.embedding_model,
        ).where(KnowledgeIndexRecord.node_did == node_did, KnowledgeIndexRecord.embedding.is_not(None))
    ).all()
    return {str(r[0]): (str(r[1]), bytes(r[2] or b""), str(r[3])) for r in rows}


def replace_node(
    session: Session, node_did: str, node_name: str, entries: Sequence[IndexEntry], now: datetime
) -> None:
    """Make a node's indexed items exactly ``entries`` (what it no longer publishes disappears)."""
    wanted = {entry.item_id for entry in entries}
    current = {
        str(item_id): (str(digest), str(name), model)
        for item_id, digest, name, model in session.execute(
            select(
                KnowledgeIndexRecord.item_id,
                KnowledgeIndexRecord.content_hash,
                KnowledgeIndexRecord.node_name,
                KnowledgeIndexRecord.embedding_model,
            ).where(KnowledgeIndexRecord.node_did == node_did)
        )
    }
    gone = sorted(set(current) - wanted)
    if gone:
        drop(session, node_did, gone)
    for entry in entries:
        if current.get(entry.item_id) != (entry.content_hash, node_name, entry.embedding_model):
            put(session, node_did, node_name, entry, now)


def count(session: Session) -> int:
    """How many items the index holds."""
    return int(session.execute(select(func.count()).select_from(KnowledgeIndexRecord)).scalar_one())
