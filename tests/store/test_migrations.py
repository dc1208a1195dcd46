"""Migrations: the schema revision constant matches alembic, and upgrading is idempotent on both backends."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory

from allmende.store import migrate
from allmende.store.database import Database
from allmende.store.schema_version import SCHEMA_REVISION, current_revision, needs_migration


def test_schema_revision_is_alembics_head() -> None:
    assert ScriptDirectory.from_config(migrate._config()).get_current_head() == SCHEMA_REVISION


def test_upgrade_from_empty_and_again(tmp_path: Path, database_url: str | None) -> None:
    db = Database(database_url or f"sqlite:///{tmp_path / 'm.db'}")
    try:
        assert current_revision(db) is None and needs_migration(db)
        migrate.upgrade(db)
        assert current_revision(db) == SCHEMA_REVISION and not needs_migration(db)
        migrate.upgrade(db)  # nothing to do, no error
        assert migrate.is_current(db)
    finally:
        db.dispose()
