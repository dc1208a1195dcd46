"""Knowledge search by stems and compound endings: the full-text index reads terms, not words.

``knowledge_index`` gains ``title_terms``, ``keyword_terms`` and ``body_terms``: each field's Snowball
stems (German and English) and the endings of its long words, made by
:func:`allmende.knowledge.analysis.search_terms` (recomputed here from the stored fields, which are
derived data of the items). SQLite: the FTS5 table reads these columns (same weights, kept by
triggers), and ``knowledge_index_vocab`` (fts5vocab) lists its words, which splits a query's compounds.
PostgreSQL: the stored generated ``search_vector`` is made from them (``simple`` configuration).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from allmende.knowledge.analysis import search_terms

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_WORDS = ("title", "keywords", "body")
_TERMS = ("title_terms", "keyword_terms", "body_terms")


def _sqlite_fts(columns: tuple[str, ...]) -> list[str]:
    listed = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    fts = "knowledge_index_fts"
    delete = f"INSERT INTO {fts}({fts}, rowid, {listed}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO knowledge_index_fts(rowid, {listed}) VALUES (new.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE knowledge_index_fts USING fts5({listed}, content='knowledge_index', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON knowledge_index BEGIN {insert} END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON knowledge_index BEGIN {delete} END",
        f"CREATE TRIGGER {fts}_update AFTER UPDATE ON knowledge_index BEGIN {delete} {insert} END",
        "INSERT INTO knowledge_index_fts(knowledge_index_fts) VALUES ('rebuild')",
    ]


def _postgres_vector(columns: tuple[str, ...]) -> list[str]:
    title, keywords, body = columns
    return [
        "ALTER TABLE knowledge_index ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        f"setweight(to_tsvector('simple', coalesce({title}, '')), 'A') || "
        f"setweight(to_tsvector('simple', coalesce({keywords}, '')), 'B') || "
        f"setweight(to_tsvector('simple', coalesce({body}, '')), 'C')) STORED",
        "CREATE INDEX ix_knowledge_index_search_vector ON knowledge_index USING GIN (search_vector)",
    ]


def _drop_full_text(sqlite: bool) -> None:
    if sqlite:
        op.execute("DROP TABLE IF EXISTS knowledge_index_vocab")
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS knowledge_index_fts_{name}")
        op.execute("DROP TABLE IF EXISTS knowledge_index_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_knowledge_index_search_vector")
        op.execute("ALTER TABLE knowledge_index DROP COLUMN IF EXISTS search_vector")


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    _drop_full_text(sqlite)  # first: its triggers would otherwise index the update below row by row
    for column in _TERMS:
        op.add_column("knowledge_index", sa.Column(column, sa.Text(), nullable=False, server_default=""))
    rows = bind.execute(sa.text("SELECT id, title, keywords, body FROM knowledge_index")).all()
    if rows:
        bind.execute(
            sa.text(
                "UPDATE knowledge_index SET title_terms = :t, keyword_terms = :k, body_terms = :b "
                "WHERE id = :id"
            ),
            [dict(zip(("t", "k", "b"), search_terms(r[1], r[2], r[3]), strict=True), id=r[0]) for r in rows],
        )
    if sqlite:
        for statement in _sqlite_fts(_TERMS):
            op.execute(statement)
        op.execute("CREATE VIRTUAL TABLE knowledge_index_vocab USING fts5vocab(knowledge_index_fts, 'row')")
    else:
        for statement in _postgres_vector(_TERMS):
            op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _drop_full_text(sqlite)
    with op.batch_alter_table("knowledge_index") as batch:
        for column in _TERMS:
            batch.drop_column(column)
    for statement in _sqlite_fts(_WORDS) if sqlite else _postgres_vector(_WORDS):
        op.execute(statement)
