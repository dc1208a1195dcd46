"""This node's knowledge items: publish, edit (a new version each time), withdraw, read; every change
goes to the knowledge index (so search and the published list see it) and the audit log in the
caller's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.audit import log as audit
from allmende.clock import isoformat, utcnow
from allmende.knowledge import index
from allmende.knowledge.embeddings import Embedder, to_bytes
from allmende.knowledge.fields import item_fields
from allmende.knowledge.jsonld import to_jsonld
from allmende.knowledge.model import KnowledgeError, KnowledgeItem, item_json, parse_item
from allmende.knowledge.records import KnowledgeItemRecord, KnowledgeVersionRecord


class NotFound(KnowledgeError):
    """No such item (or it was withdrawn)."""


@dataclass(frozen=True)
class Publisher:
    """Who publishes: the node's DID and name (the JSON-LD ``publisher`` and the index's source)."""

    did: str
    name: str


def item_document(record: KnowledgeItemRecord, publisher: Publisher) -> dict[str, Any]:
    """The JSON-LD document of an item's current version."""
    return to_jsonld(
        parse_item(record.data),
        item_id=record.id,
        version=record.version,
        publisher=publisher.did,
        modified=isoformat(record.updated_at),
    )


def index_entry(
    item: KnowledgeItem,
    item_id: str,
    version: int,
    document: dict[str, Any],
    modified: datetime | None,
    embedder: Embedder | None,
    known: tuple[str, bytes, str] | None = None,
) -> index.IndexEntry:
    """What the index keeps of an item; its embedding is reused when its content is unchanged."""
    fields = item_fields(item)
    digest = index.content_hash(document)
    vector: bytes | None = None
    if embedder is not None:
        if known is not None and known[0] == digest and known[2] == embedder.name:
            vector = known[1]
        else:
            vector = to_bytes(embedder.passages([fields.passage])[0])
    return index.IndexEntry(
        item_id, version, fields, document, modified, vector, embedder.name if embedder and vector else None
    )


def publish(
    session: Session, data: Any, *, actor: str, publisher: Publisher, embedder: Embedder | None
) -> KnowledgeItemRecord:
    """Validate and publish a new item (version 1)."""
    item = parse_item(data)
    now = utcnow()
    record = KnowledgeItemRecord(
        id=f"urn:uuid:{uuid.uuid4()}",
        kind=item.kind,
        version=1,
        data=item_json(item),
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    _keep_version(session, record, actor)
    _index(session, record, item, publisher, embedder)
    audit.append(
        session,
        actor=actor,
        event="knowledge.published",
        subject=record.id,
        detail={"kind": item.kind, "title": item.title},
    )
    return record


def edit(
    session: Session, item_id: str, data: Any, *, actor: str, publisher: Publisher, embedder: Embedder | None
) -> KnowledgeItemRecord:
    """Replace an item's content with a new version (the kind cannot change; old versions stay)."""
    record = _current(session, item_id)
    item = parse_item(data)
    if item.kind != record.kind:
        raise KnowledgeError(f"item {item_id} is a {record.kind}; its kind cannot change to {item.kind}")
    record.data = item_json(item)
    record.version += 1
    record.updated_at = utcnow()
    _keep_version(session, record, actor)
    _index(session, record, item, publisher, embedder)
    audit.append(
        session, actor=actor, event="knowledge.edited", subject=item_id, detail={"version": record.version}
    )
    return record


def withdraw(session: Session, item_id: str, *, actor: str, publisher: Publisher) -> KnowledgeItemRecord:
    """Stop publishing an item: it leaves the index and the published list (its versions are kept)."""
    record = _current(session, item_id)
    record.removed_at = utcnow()
    index.drop(session, publisher.did, [item_id])
    audit.append(session, actor=actor, event="knowledge.withdrawn", subject=item_id)
    return record


def get(session: Session, item_id: str) -> KnowledgeItemRecord:
    """A published item of this node (NotFound otherwise)."""
    return _current(session, item_id)


def versions(session: Session, item_id: str) -> list[KnowledgeVersionRecord]:
    """Every version of an item, oldest first (also of withdrawn items); NotFound if it never existed."""
    found = list(
        session.execute(
            select(KnowledgeVersionRecord)
            .where(KnowledgeVersionRecord.item_id == item_id)
            .order_by(KnowledgeVersionRecord.version)
        ).scalars()
    )
    if not found:
        raise NotFound(f"no knowledge item {item_id}")
    return found


def published(session: Session, kind: str | None = None) -> list[KnowledgeItemRecord]:
    """This node's published items, oldest first (optionally of one kind)."""
    query = select(KnowledgeItemRecord).where(KnowledgeItemRecord.removed_at.is_(None))
    if kind:
        query = query.where(KnowledgeItemRecord.kind == kind)
    return list(
        session.execute(query.order_by(KnowledgeItemRecord.created_at, KnowledgeItemRecord.id)).scalars()
    )


def _current(session: Session, item_id: str) -> KnowledgeItemRecord:
    record = session.get(KnowledgeItemRecord, item_id)
    if record is None or record.removed_at is not None:
        raise NotFound(f"no knowledge item {item_id}")
    return record


def _keep_version(session: Session, record: KnowledgeItemRecord, actor: str) -> None:
    session.add(
        KnowledgeVersionRecord(
            item_id=record.id,
            version=record.version,
            data=record.data,
            actor=actor[:300],
            created_at=record.updated_at,
        )
    )
    session.flush()


def _index(
    session: Session,
    record: KnowledgeItemRecord,
    item: KnowledgeItem,
    publisher: Publisher,
    embedder: Embedder | None,
) -> None:
    document = item_document(record, publisher)
    entry = index_entry(item, record.id, record.version, document, record.updated_at, embedder)
    index.put(session, publisher.did, publisher.name, entry, record.updated_at)
