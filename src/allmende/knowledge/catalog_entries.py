"""Knowledge items as datasets of the node's DSP catalog.

Each published item becomes a DCAT dataset with the item's id, title, summary and keywords, media type
``application/ld+json``, and one offer following the ``open-use`` template (auto-approved), so DSP
clients that only read catalogs see the node's knowledge too. A DSP client can negotiate that offer
and pull the item's JSON-LD under the agreement like any dataset (:mod:`allmende.knowledge.item_offers`);
the item needs no agreement, though: it is served to anyone at ``/knowledge/items/{id}`` (see
:mod:`allmende.knowledge.publication`).

``CatalogView.page`` appends :func:`catalog_page` after the asset datasets of the DSP catalog, so the
federated catalog crawler sees them too (see docs/knowledge.md for how they appear in network search).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.catalog.model import DatasetEntry, OfferEntry
from allmende.knowledge.documents import MEDIA_TYPE
from allmende.knowledge.records import KnowledgeItemRecord
from allmende.knowledge.service import published
from allmende.policy.jsonld import policy_to_json
from allmende.policy.templates import get_template

__all__ = ["MEDIA_TYPE", "catalog_entries", "catalog_entry", "catalog_page", "offer_id_of", "open_offer"]


def offer_id_of(item_id: str) -> str:
    """The id of an item's open-use offer: stable, derived from the item's id."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, item_id + '#open-offer')}"


def open_offer(item_id: str, assigner: str) -> OfferEntry:
    """The open-use offer of an item (a stable id derived from the item's)."""
    offer_id = offer_id_of(item_id)
    policy: dict[str, Any] = policy_to_json(get_template("open-use").build(assigner, item_id))
    policy.pop("target", None)
    policy.update({"@id": offer_id, "@type": "Offer"})
    return OfferEntry(offer_id=offer_id, policy=policy)


def catalog_entry(record: KnowledgeItemRecord, assigner: str) -> DatasetEntry:
    """One published item as a catalog dataset."""
    data = record.data
    return DatasetEntry(
        dataset_id=record.id,
        title=str(data.get("title") or record.id),
        description=str(data.get("summary") or data.get("title") or record.kind),
        keywords=tuple(str(k) for k in data.get("keywords", []) if str(k).strip()),
        media_type=MEDIA_TYPE,
        byte_size=None,
        issued=record.created_at,
        modified=record.updated_at,
        offers=(open_offer(record.id, assigner),),
    )


def catalog_entries(session: Session, assigner: str) -> list[DatasetEntry]:
    """Every published knowledge item of this node as a catalog dataset, oldest first."""
    return [catalog_entry(record, assigner) for record in published(session)]


def catalog_page(
    session: Session, assigner: str, *, offset: int, limit: int, item_id: str | None = None
) -> tuple[list[DatasetEntry], bool]:
    """Published items ``offset``..``offset+limit`` (oldest first; only ``item_id`` if given) as
    catalog datasets, and whether more follow."""
    limit = max(0, limit)
    query = select(KnowledgeItemRecord).where(KnowledgeItemRecord.removed_at.is_(None))
    if item_id is not None:
        query = query.where(KnowledgeItemRecord.id == item_id)
    rows = list(
        session.execute(
            query.order_by(KnowledgeItemRecord.created_at, KnowledgeItemRecord.id)
            .offset(max(0, offset))
            .limit(limit + 1)
        ).scalars()
    )
    return [catalog_entry(record, assigner) for record in rows[:limit]], len(rows) > limit
