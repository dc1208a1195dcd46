"""Search filters inside the full-text index: a ``facets`` column of tokens per dataset.

SQLite: the FTS5 table gains a ``facets`` column (tokens made by
:mod:`allmende.network.facets`), so a search with filters intersects words and filters in the index
and ranks only what passes both; an index on (id, modified) orders filter-only results without
reading the wide dataset rows. PostgreSQL keeps filtering through ``federated_dataset_values``; the
column is kept there too so both databases hold the same rows.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from allmende.network.facets import facet_text

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_COLUMNS = ("title", "keywords", "description", "publisher")


def _fts_statements(columns: tuple[str, ...]) -> list[str]:
    listed = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    delete = (
        f"INSERT INTO federated_datasets_fts(federated_datasets_fts, rowid, {listed}) "
        f"VALUES ('delete', old.id, {old});"
    )
    insert = f"INSERT INTO federated_datasets_fts(rowid, {listed}) VALUES (new.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE federated_datasets_fts USING fts5({listed}, content='federated_datasets', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
        f"CREATE TRIGGER federated_datasets_fts_insert AFTER INSERT ON federated_datasets BEGIN {insert} END",
        f"CREATE TRIGGER federated_datasets_fts_delete AFTER DELETE ON federated_datasets BEGIN {delete} END",
        f"CREATE TRIGGER federated_datasets_fts_update AFTER UPDATE ON federated_datasets BEGIN "
        f"{delete} {insert} END",
        "INSERT INTO federated_datasets_fts(federated_datasets_fts) VALUES ('rebuild')",
    ]


def _drop_fts() -> None:
    for name in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS federated_datasets_fts_{name}")
    op.execute("DROP TABLE IF EXISTS federated_datasets_fts")


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        _drop_fts()  # before the update below, which its triggers would otherwise index row by row
    op.add_column("federated_datasets", sa.Column("facets", sa.Text(), nullable=False, server_default=""))
    pairs: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for row, kind, key in bind.execute(
        sa.text("SELECT dataset_row, kind, key FROM federated_dataset_values")
    ):
        pairs[int(row)].append((str(kind), str(key)))
    if pairs:
        bind.execute(
            sa.text("UPDATE federated_datasets SET facets = :facets WHERE id = :id"),
            [{"id": row, "facets": facet_text(found)} for row, found in pairs.items()],
        )
    op.create_index("ix_federated_datasets_row_modified", "federated_datasets", ["id", "modified"])
    if sqlite:
        for statement in _fts_statements((*_COLUMNS, "facets")):
            op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _drop_fts()
    op.drop_index("ix_federated_datasets_row_modified", table_name="federated_datasets")
    with op.batch_alter_table("federated_datasets") as batch:
        batch.drop_column("facets")
    if sqlite:
        for statement in _fts_statements(_COLUMNS):
            op.execute(statement)
