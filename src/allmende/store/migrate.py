"""Schema migrations (alembic), run programmatically against the node's database."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from allmende.store.database import Database


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("allmende.store") / "migrations"))
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (default: the newest)."""
    config = _config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def is_current(database: Database) -> bool:
    """True when the database is at the newest schema revision."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    with database.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current == head
