"""The knowledge store on SQLite and PostgreSQL: versions kept on edit, withdrawal, the index, keyword
search with filters, and the keyword-only notice without the semantic model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from allmende.knowledge import service
from allmende.knowledge.embeddings import NOTICE
from allmende.knowledge.model import KnowledgeError, item_json
from allmende.knowledge.search import search
from allmende.knowledge.seed import demo_items
from allmende.knowledge.seeding import load_seed
from allmende.knowledge.vectors import Filters
from allmende.store import migrate
from allmende.store.database import Database

ME = service.Publisher("did:web:centre.example", "Centre")


@pytest.fixture
def db(tmp_path: Path, database_url: str | None) -> Iterator[Database]:
    database = Database(database_url or f"sqlite:///{tmp_path / 'knowledge.db'}")
    migrate.upgrade(database)
    with database.transaction() as session:
        load_seed(session, actor="test", publisher=ME, embedder=None, demo=True)
    yield database
    database.dispose()


def titles(db: Database, text: str, **filters: str) -> list[str]:
    with db.read() as session:
        result = search(session, text, filters=Filters(**filters), embedder=None)
    assert result.mode == "keyword" and result.notice == NOTICE
    return [hit.title for hit in result.hits]


def test_seed_is_published_once(db: Database) -> None:
    with db.transaction() as session:
        assert load_seed(session, actor="test", publisher=ME, embedder=None, demo=True) == 0
    with db.read() as session:
        assert len(service.published(session)) == 26
        assert len(service.published(session, "programme")) == 18


def test_keyword_search_ranks_and_filters(db: Database) -> None:
    assert titles(db, "Spritzgießmaschinen")[0].startswith("Zustandsüberwachung an Spritzgieß")
    # any word of a sentence counts, function words do not
    assert (
        titles(db, "wir suchen Hilfe bei der IT-Sicherheit")[0] == "IT-Sicherheits-Check für kleine Betriebe"
    )
    assert "Digitalbonus Bayern" in titles(db, "digital", kind="programme", region="DE-BY")
    assert "Digitalbonus Bayern" not in titles(db, "digital", kind="programme", region="DE-SN")
    ended = titles(db, "consultants", kind="programme")
    assert "go-digital" in ended and "go-digital" not in titles(db, "consultants", status="open")
    assert titles(db, "Spritzgießmaschinen", size="small") == []
    assert titles(db, "zzzunknownword") == []
    assert titles(db, '"" OR AND (((') == []  # odd input never fails


def test_no_text_lists_newest_first(db: Database) -> None:
    listed = titles(db, "", kind="security")
    assert listed == ["IT-Sicherheits-Check für kleine Betriebe"]


def test_edits_make_versions_and_withdrawal_leaves_the_index(db: Database) -> None:
    with db.transaction() as session:
        record = service.publish(
            session, item_json(demo_items()[1]), actor="alice", publisher=ME, embedder=None
        )
        item_id = record.id
    changed = {**item_json(demo_items()[1]), "title": "Paperless joinery, second edition"}
    with db.transaction() as session:
        assert service.edit(session, item_id, changed, actor="bob", publisher=ME, embedder=None).version == 2
    with db.read() as session:
        history = service.versions(session, item_id)
    assert [(v.version, v.actor, v.data["title"]) for v in history] == [
        (1, "alice", "Digital order tracking in a joinery workshop"),
        (2, "bob", "Paperless joinery, second edition"),
    ]
    assert "Paperless joinery, second edition" in titles(db, "paperless joinery")
    with db.transaction() as session, pytest.raises(KnowledgeError, match="kind cannot change"):
        service.edit(session, item_id, item_json(demo_items()[3]), actor="x", publisher=ME, embedder=None)
    with db.transaction() as session:
        service.withdraw(session, item_id, actor="alice", publisher=ME)
    assert "Paperless joinery, second edition" not in titles(db, "paperless joinery")
    with db.read() as session, pytest.raises(service.NotFound):
        service.get(session, item_id)
    with db.read() as session:
        assert len(service.versions(session, item_id)) == 2  # history stays


def test_invalid_input_changes_nothing(db: Database) -> None:
    with db.read() as session:
        before = len(service.published(session))
    with db.transaction() as session, pytest.raises(KnowledgeError):
        service.publish(session, {"kind": "case", "title": "x"}, actor="a", publisher=ME, embedder=None)
    with db.read() as session:
        assert len(service.published(session)) == before
