"""The schema revision this code expects, readable without importing alembic (fast start-up)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from allmende.store.database import Database

SCHEMA_REVISION = "0015"  # a test checks that this is alembic's head


def current_revision(database: Database) -> str | None:
    """The revision recorded in the database (None for an empty database)."""
    try:
        with database.engine.connect() as connection:
            value = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None
    return str(value) if value is not None else None


def needs_migration(database: Database) -> bool:
    """True unless the database is at :data:`SCHEMA_REVISION`."""
    return current_revision(database) != SCHEMA_REVISION
