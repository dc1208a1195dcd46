"""The knowledge side of the provider's look-ups: an item's offer for negotiation, its document for the
data plane; the offer id map is rebuilt only when items were added."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from allmende.knowledge import item_offers, service
from allmende.knowledge.catalog_entries import offer_id_of, open_offer
from allmende.knowledge.documents import MEDIA_TYPE, document_body, published_document
from allmende.knowledge.item_offers import KnowledgeOffers
from allmende.knowledge.model import item_json
from allmende.knowledge.seed import demo_items
from allmende.sources import DocumentSource
from allmende.store import migrate
from allmende.store.database import Database

DID = "did:web:centre.example"
PUBLISHER = service.Publisher(DID, "Centre")


def test_offers_are_found_cheaply_and_withdrawn_items_are_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    derived: list[str] = []

    def counted(item_id: str) -> str:
        derived.append(item_id)
        return offer_id_of(item_id)

    monkeypatch.setattr(item_offers, "offer_id_of", counted)
    db = Database(f"sqlite:///{tmp_path / 'k.db'}")
    offers = KnowledgeOffers(DID)
    try:
        migrate.upgrade(db)
        with db.transaction() as session:
            ids = [
                service.publish(session, item_json(item), actor="t", publisher=PUBLISHER, embedder=None).id
                for item in demo_items()[:5]
            ]
        with db.read() as session:
            found = offers.visible_offer(session, offer_id_of(ids[3]), "did:web:anyone.example")
            assert found is not None
            assert (found.offer_id, found.dataset_id, found.review_required) == (
                offer_id_of(ids[3]),
                ids[3],
                False,
            )
            assert found.policy == open_offer(ids[3], DID).policy
            assert len(derived) == 5
            # Known offers and unknown ones cost no rebuild while no item was added.
            assert offers.visible_offer(session, offer_id_of(ids[0]), "did:web:other.example") is not None
            assert offers.visible_offer(session, "urn:uuid:nothing", "did:web:other.example") is None
            assert len(derived) == 5

            served = offers.served(session, ids[1])
            document = published_document(session, DID, ids[1])
            assert served is not None and document is not None
            body = document_body(document)
            assert served.source == DocumentSource(
                body, MEDIA_TYPE, ids[1].removeprefix("urn:uuid:") + ".jsonld"
            )
            assert (served.media_type, served.sha256, served.byte_size) == (
                MEDIA_TYPE,
                hashlib.sha256(body).hexdigest(),
                len(body),
            )
            assert offers.served(session, "urn:uuid:nothing") is None

        with db.transaction() as session:
            added = service.publish(
                session, item_json(demo_items()[5]), actor="t", publisher=PUBLISHER, embedder=None
            ).id
            service.withdraw(session, ids[3], actor="t", publisher=PUBLISHER)
        with db.read() as session:
            assert offers.visible_offer(session, offer_id_of(added), "did:web:anyone.example") is not None
            assert len(derived) == 5 + 6  # one rebuild over every item
            assert offers.visible_offer(session, offer_id_of(ids[3]), "did:web:anyone.example") is None
            assert offers.served(session, ids[3]) is None
    finally:
        db.dispose()
