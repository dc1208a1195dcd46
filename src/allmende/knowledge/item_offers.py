"""Published knowledge items as DSP offers and datasets: negotiated and transferred like any dataset.

Each item is listed in the node's DSP catalog with one open-use offer
(:mod:`allmende.knowledge.catalog_entries`). :class:`KnowledgeOffers` is the knowledge side of the two
look-ups the node chains after its assets': the negotiation's offer look-up (``visible_offer``: every
caller sees the offer, the item is the dataset, no review) and the data plane's dataset look-up
(``served``: the item's current JSON-LD document, the bytes ``GET /knowledge/items/{id}`` answers).
A withdrawn item is neither: its offer is unknown again, and pulls under an agreement for it answer
410.

An offer id is derived from the item id (a UUIDv5) and cannot be read back, so the look-up keeps a
map of offer id to item id. It is rebuilt only when an unknown offer id comes and the items' count or
newest creation time changed (items are never deleted, only withdrawn); an id found in the map is
always checked against the item itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allmende.knowledge.catalog_entries import offer_id_of, open_offer
from allmende.knowledge.documents import MEDIA_TYPE, document_body, published_document
from allmende.knowledge.records import KnowledgeItemRecord
from allmende.negotiation.provider import PublishedOffer
from allmende.sources import DocumentSource
from allmende.transfer.datasets import ServedData

ItemsState = tuple[int, datetime | None]
"""The items' count and newest creation time: when it is unchanged, no offer was added."""


@dataclass(frozen=True)
class _OfferMap:
    state: ItemsState | None
    items: dict[str, str]


class KnowledgeOffers:
    """This node's published knowledge items as offers (for negotiation) and datasets (for transfer).

    ``assigner`` is the node's DID. One instance per node: it keeps the offer id map of that node's
    database.
    """

    def __init__(self, assigner: str) -> None:
        self.assigner = assigner
        self._map = _OfferMap(None, {})

    def visible_offer(
        self, session: Session, offer_id: str, caller_did: str, communities: frozenset[str] = frozenset()
    ) -> PublishedOffer | None:
        """The open-use offer ``offer_id`` of a published item (everyone sees it; no review)."""
        item_id = self._item_of(session, offer_id)
        if item_id is None or _published(session, item_id) is None:
            return None
        offer = open_offer(item_id, self.assigner)
        return PublishedOffer(offer.offer_id, item_id, offer.policy, review_required=False)

    def served(self, session: Session, dataset_id: str) -> ServedData | None:
        """The current JSON-LD document of the published item ``dataset_id`` (None: no such item)."""
        if _published(session, dataset_id) is None:
            return None
        document = published_document(session, self.assigner, dataset_id)
        if document is None:
            return None
        body = document_body(document)
        name = dataset_id.removeprefix("urn:uuid:") + ".jsonld"
        return ServedData(
            DocumentSource(body, MEDIA_TYPE, name), MEDIA_TYPE, hashlib.sha256(body).hexdigest(), len(body)
        )

    def _item_of(self, session: Session, offer_id: str) -> str | None:
        known = self._map
        found = known.items.get(offer_id)
        if found is not None:
            return found
        count, newest = session.execute(
            select(func.count(), func.max(KnowledgeItemRecord.created_at)).select_from(KnowledgeItemRecord)
        ).one()
        state: ItemsState = (int(count), newest)
        if state == known.state:
            return None
        ids = session.execute(select(KnowledgeItemRecord.id)).scalars()
        self._map = _OfferMap(state, {offer_id_of(item_id): item_id for item_id in ids})
        return self._map.items.get(offer_id)


def _published(session: Session, item_id: str) -> KnowledgeItemRecord | None:
    record = session.get(KnowledgeItemRecord, item_id)
    return record if record is not None and record.removed_at is None else None
