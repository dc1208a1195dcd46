"""Keyword ranking among many rows that match one common word of a query: the row with most of its words
is the strong match, the common ones fill the weak list up to the limit, and hybrid search (no weak
list) gets the same strong match; on both databases (PostgreSQL asks for the strong rows apart)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from allmende.knowledge import service
from allmende.knowledge.keywords import keyword_ranking
from allmende.knowledge.model import item_json
from allmende.knowledge.records import KnowledgeIndexRecord
from allmende.knowledge.seed import demo_items
from allmende.store import migrate
from allmende.store.database import Database

ME = service.Publisher("did:web:centre.example", "Centre")
COMMON = 110  # more than the 100 rows one ranking asks for


@pytest.fixture
def db(tmp_path: Path, database_url: str | None) -> Iterator[Database]:
    database = Database(database_url or f"sqlite:///{tmp_path / 'quorum.db'}")
    migrate.upgrade(database)
    event = item_json(demo_items()[6])
    with database.transaction() as session:
        for i in range(COMMON):
            common = {**event, "title": f"Digitalisierung Termin {i}", "keywords": ["Digitalisierung"]}
            common["summary"] = "Digitalisierung im Betrieb: Digitalisierung Schritt für Schritt."
            service.publish(session, common, actor="t", publisher=ME, embedder=None)
        rare = {**event, "title": "Druckluft-Lecks finden", "keywords": ["Energie"]}
        rare["summary"] = "Energie sparen an Druckluftanlagen, ein Beispiel der Digitalisierung."
        service.publish(session, rare, actor="t", publisher=ME, embedder=None)
    yield database
    database.dispose()


def test_rows_with_most_words_are_found_past_the_common_ones(db: Database) -> None:
    with db.read() as session:
        strong, weak = keyword_ranking(session, "Digitalisierung Energie Druckluft", limit=100)
        titles = dict(session.query(KnowledgeIndexRecord.id, KnowledgeIndexRecord.title).all())
        assert [titles[r] for r in strong] == ["Druckluft-Lecks finden"]
        assert len(weak) == 99 and all(titles[r].startswith("Digitalisierung Termin") for r in weak)
        hybrid_strong, hybrid_weak = keyword_ranking(
            session, "Digitalisierung Energie Druckluft", limit=100, with_weak=False
        )
        assert hybrid_strong == strong and hybrid_weak == []
