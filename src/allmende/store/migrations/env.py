"""Alembic environment: runs against the connection handed in by allmende.store.migrate."""

from __future__ import annotations

from alembic import context

from allmende.store.records import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through allmende.store.migrate.upgrade(), not the alembic CLI")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
