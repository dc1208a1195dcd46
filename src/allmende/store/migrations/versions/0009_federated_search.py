"""Full-text search over the federated catalog: SQLite FTS5 or PostgreSQL tsvector, plus filter indexes.

SQLite: an external-content FTS5 table over ``federated_datasets`` (title, keywords, description,
publisher), kept in step by triggers. PostgreSQL: a stored generated ``search_vector`` (title A,
keywords B, description C, publisher D; the ``simple`` configuration, so German and English words
are both matched as written) with a GIN index. ``federated_dataset_values`` holds every filter value
of every dataset (indexed), so filters and facets need no table scan.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_SQLITE = (
    "CREATE VIRTUAL TABLE federated_datasets_fts USING fts5("
    "title, keywords, description, publisher, content='federated_datasets', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER federated_datasets_fts_insert AFTER INSERT ON federated_datasets BEGIN "
    "INSERT INTO federated_datasets_fts(rowid, title, keywords, description, publisher) "
    "VALUES (new.id, new.title, new.keywords, new.description, new.publisher); END",
    "CREATE TRIGGER federated_datasets_fts_delete AFTER DELETE ON federated_datasets BEGIN "
    "INSERT INTO federated_datasets_fts(federated_datasets_fts, rowid, title, keywords, description, "
    "publisher) VALUES ('delete', old.id, old.title, old.keywords, old.description, old.publisher); END",
    "CREATE TRIGGER federated_datasets_fts_update AFTER UPDATE ON federated_datasets BEGIN "
    "INSERT INTO federated_datasets_fts(federated_datasets_fts, rowid, title, keywords, description, "
    "publisher) VALUES ('delete', old.id, old.title, old.keywords, old.description, old.publisher); "
    "INSERT INTO federated_datasets_fts(rowid, title, keywords, description, publisher) "
    "VALUES (new.id, new.title, new.keywords, new.description, new.publisher); END",
    "INSERT INTO federated_datasets_fts(federated_datasets_fts) VALUES ('rebuild')",
)

_POSTGRES = (
    "ALTER TABLE federated_datasets ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple', coalesce(keywords, '')), 'B') || "
    "setweight(to_tsvector('simple', coalesce(description, '')), 'C') || "
    "setweight(to_tsvector('simple', coalesce(publisher, '')), 'D')) STORED",
    "CREATE INDEX ix_federated_datasets_search_vector ON federated_datasets USING GIN (search_vector)",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE if dialect == "sqlite" else _POSTGRES:
        op.execute(statement)
    op.create_index("ix_federated_datasets_modified", "federated_datasets", ["modified"])
    op.create_index("ix_federated_datasets_publisher", "federated_datasets", ["publisher"])
    row = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "federated_dataset_values",
        sa.Column("dataset_row", row, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_row"],
            ["federated_datasets.id"],
            name=op.f("fk_federated_dataset_values_dataset_row_federated_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_row", "kind", "key", name=op.f("pk_federated_dataset_values")),
    )
    op.create_index(
        "ix_federated_dataset_values_kind_key", "federated_dataset_values", ["kind", "key", "dataset_row"]
    )


def downgrade() -> None:
    op.drop_table("federated_dataset_values")
    op.drop_index("ix_federated_datasets_publisher", table_name="federated_datasets")
    op.drop_index("ix_federated_datasets_modified", table_name="federated_datasets")
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS federated_datasets_fts_{name}")
        op.execute("DROP TABLE IF EXISTS federated_datasets_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_federated_datasets_search_vector")
        op.execute("ALTER TABLE federated_datasets DROP COLUMN IF EXISTS search_vector")
