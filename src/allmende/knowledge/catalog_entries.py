"""Knowledge items as datasets of the node's DSP catalog (open items: no negotiation needed).

Each published item becomes a DCAT dataset with the item's id, title, summary and keywords, media type
``application/ld+json``, and one offer following the ``open-use`` template (auto-approved), so DSP
clients that only read catalogs see the node's knowledge too. The item itself needs no agreement: it
is served to anyone at ``/knowledge/items/{id}`` (see :mod:`allmende.knowledge.publication`).

The catalog routes append :func:`catalog_entries` to the asset datasets (integration point, see
docs/knowledge.md); this module only builds the entries.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from allmende.catalog.model import DatasetEntry, OfferEntry
from allmende.knowledge.records import KnowledgeItemRecord
from allmende.knowledge.service import published
from allmende.policy.jsonld import policy_to_json
from allmende.policy.templates import get_template

MEDIA_TYPE = "application/ld+json"


def open_offer(item_id: str, assigner: str) -> OfferEntry:
    """The open-use offer of an item (a stable id derived from the item's)."""
    offer_id = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, item_id + '#open-offer')}"
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
