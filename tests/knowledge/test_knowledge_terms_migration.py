"""Migration 0015 on SQLite and PostgreSQL: rows indexed before it get their terms, are found by stems,
compound endings and parts afterwards, and a downgrade brings back the word index."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from allmende.knowledge.keywords import keyword_ranking, known
from allmende.store import migrate
from allmende.store.database import Database

_ROW = {
    "node_did": "did:web:old.example",
    "node_name": "Old",
    "item_id": "urn:uuid:1",
    "version": 1,
    "kind": "case",
    "title": "Maschinendaten im Kühlraum",
    "keywords": "Temperaturüberwachung",
    "body": "Funk-Fühler melden Temperaturen",
    "status": "",
    "regions": "",
    "sectors": "",
    "sizes": "",
    "document": "{}",
    "content_hash": "x",
    "updated_at": "2026-01-01 00:00:00",
}


def _downgrade(db: Database, revision: str) -> None:
    config = migrate._config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_rows_indexed_before_get_their_terms(tmp_path: Path, database_url: str | None) -> None:
    db = Database(database_url or f"sqlite:///{tmp_path / 'm.db'}")
    try:
        migrate.upgrade(db, "0014")
        columns, values = ", ".join(_ROW), ", ".join(f":{c}" for c in _ROW)
        with db.engine.begin() as connection:
            connection.execute(sa.text(f"INSERT INTO knowledge_index ({columns}) VALUES ({values})"), _ROW)
        migrate.upgrade(db)
        with db.read() as session:
            title = session.execute(sa.text("SELECT title_terms FROM knowledge_index")).scalar_one()
            assert title.split()[:3] == ["maschinendat", "im", "kuhlraum"] and "0dat" in title.split()
            assert known(session, {"kuhlraum", "dat", "nothing"}) == {"kuhlraum"}
            for need in ("Daten", "Kühlraumtemperaturen", "temperatur", "Maschine"):
                assert keyword_ranking(session, need) != ([], []), need
            assert keyword_ranking(session, "Datei") == ([], [])
        _downgrade(db, "0014")
        with db.read() as session:
            sqlite = db.engine.dialect.name == "sqlite"
            query = (
                "SELECT rowid FROM knowledge_index_fts WHERE knowledge_index_fts MATCH 'kühlraum'"
                if sqlite
                else "SELECT id FROM knowledge_index WHERE search_vector @@ to_tsquery('simple', 'kühlraum')"
            )
            assert len(session.execute(sa.text(query)).all()) == 1
    finally:
        db.dispose()
