"""Publishing the bundled seed programmes and demo items on a node (idempotent by kind and title)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from allmende.knowledge import service
from allmende.knowledge.embeddings import Embedder
from allmende.knowledge.model import KnowledgeItem, item_json
from allmende.knowledge.seed import demo_items, seed_programmes


def load_seed(
    session: Session,
    *,
    actor: str,
    publisher: service.Publisher,
    embedder: Embedder | None,
    demo: bool = False,
    programmes: bool = True,
) -> int:
    """Publish the seed programmes (and with ``demo`` the demo items) not yet published; how many."""
    chosen: list[KnowledgeItem] = [
        *(seed_programmes() if programmes else []),
        *(demo_items() if demo else []),
    ]
    present = {(r.kind, str(r.data.get("title"))) for r in service.published(session)}
    added = 0
    for item in chosen:
        if (item.kind, item.title) in present:
            continue
        service.publish(session, item_json(item), actor=actor, publisher=publisher, embedder=embedder)
        added += 1
    return added
