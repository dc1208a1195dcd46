"""Knowledge hub: published knowledge items and their versions, and the federated knowledge index.

``knowledge_items`` holds this node's items (current version), ``knowledge_item_versions`` every version.
``knowledge_index`` is what search reads: this node's published items and other nodes' as crawled, with
their embeddings; full text through an external-content FTS5 table kept by triggers (SQLite) or a stored
generated tsvector with a GIN index (PostgreSQL, ``simple`` configuration for German and English alike).
``knowledge_sources`` keeps the knowledge crawl's state per node (ETag, failures, back-off).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_COLUMNS = "title, keywords, body"
_NEW = "new.title, new.keywords, new.body"
_OLD = "old.title, old.keywords, old.body"
_SQLITE = (
    f"CREATE VIRTUAL TABLE knowledge_index_fts USING fts5({_COLUMNS}, content='knowledge_index', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER knowledge_index_fts_insert AFTER INSERT ON knowledge_index BEGIN "
    f"INSERT INTO knowledge_index_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW}); END",
    "CREATE TRIGGER knowledge_index_fts_delete AFTER DELETE ON knowledge_index BEGIN "
    f"INSERT INTO knowledge_index_fts(knowledge_index_fts, rowid, {_COLUMNS}) "
    f"VALUES ('delete', old.id, {_OLD}); END",
    "CREATE TRIGGER knowledge_index_fts_update AFTER UPDATE ON knowledge_index BEGIN "
    f"INSERT INTO knowledge_index_fts(knowledge_index_fts, rowid, {_COLUMNS}) "
    f"VALUES ('delete', old.id, {_OLD}); "
    f"INSERT INTO knowledge_index_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW}); END",
)
_POSTGRES = (
    "ALTER TABLE knowledge_index ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple', coalesce(keywords, '')), 'B') || "
    "setweight(to_tsvector('simple', coalesce(body, '')), 'C')) STORED",
    "CREATE INDEX ix_knowledge_index_search_vector ON knowledge_index USING GIN (search_vector)",
)


def upgrade() -> None:
    row = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "knowledge_items",
        sa.Column("id", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_items")),
    )
    op.create_index("ix_knowledge_items_kind", "knowledge_items", ["kind"])
    op.create_table(
        "knowledge_item_versions",
        sa.Column("item_id", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "version", name=op.f("pk_knowledge_item_versions")),
    )
    op.create_table(
        "knowledge_index",
        sa.Column("id", row, nullable=False),
        sa.Column("node_did", sa.String(500), nullable=False),
        sa.Column("node_name", sa.String(300), nullable=False),
        sa.Column("item_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("regions", sa.Text(), nullable=False),
        sa.Column("sectors", sa.Text(), nullable=False),
        sa.Column("sizes", sa.String(100), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedding_model", sa.String(100), nullable=True),
        sa.Column("modified", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_index")),
        sa.UniqueConstraint("node_did", "item_id", name=op.f("uq_knowledge_index_node_did")),
    )
    op.create_index("ix_knowledge_index_node_did", "knowledge_index", ["node_did"])
    op.create_index("ix_knowledge_index_kind", "knowledge_index", ["kind"])
    op.create_table(
        "knowledge_sources",
        sa.Column("did", sa.String(500), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("url", sa.String(1000), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("did", name=op.f("pk_knowledge_sources")),
    )
    for statement in _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS knowledge_index_fts_{name}")
        op.execute("DROP TABLE IF EXISTS knowledge_index_fts")
    op.drop_table("knowledge_sources")
    op.drop_table("knowledge_index")
    op.drop_table("knowledge_item_versions")
    op.drop_table("knowledge_items")
