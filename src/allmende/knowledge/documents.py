"""One of the node's published knowledge items as it is served: its JSON-LD document from the index
and the exact bytes sent for it, the same at ``GET /knowledge/items/{id}`` and in a DSP transfer."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.knowledge.records import KnowledgeIndexRecord

MEDIA_TYPE = "application/ld+json"


def published_document(session: Session, node_did: str, item_id: str) -> dict[str, Any] | None:
    """The current JSON-LD document of the item ``item_id`` that ``node_did`` publishes (None: none)."""
    found: dict[str, Any] | None = session.execute(
        select(KnowledgeIndexRecord.document).where(
            KnowledgeIndexRecord.node_did == node_did, KnowledgeIndexRecord.item_id == item_id
        )
    ).scalar_one_or_none()
    return found


def document_body(document: dict[str, Any]) -> bytes:
    """The bytes sent for a document: compact UTF-8 JSON, as a JSON response renders it."""
    return json.dumps(
        document, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")
