"""Keyword ranking over the knowledge index: SQLite FTS5 (bm25) or PostgreSQL (ts_rank) over the
fields' terms (:mod:`.analysis`), any of the query's words (:mod:`.query_words`), and which matches
contain more than half of them (the quorum).

A word matched by several of its stems, parts or endings counts once in the quorum; rows containing
more of the query's words come first, the database's rank orders rows containing as many (ts_rank has
no inverse document frequency and would count each stem of a word: both databases order alike)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnClause, bindparam, func, literal_column, select, text
from sqlalchemy.orm import Session

from allmende.knowledge.compounds import compound_parts
from allmende.knowledge.query_words import QueryWord, found_in, query_word, written_words
from allmende.knowledge.records import KnowledgeIndexRecord as R

CANDIDATES = 100
"""Rows each ranking contributes: past rank 100 a reciprocal rank adds under 1/160, nothing that matters."""


def quorum(words: list[QueryWord]) -> int:
    """How many of the query's words a strong keyword match contains: more than half of them."""
    return len(words) // 2 + 1


def query_words(session: Session, text_: str) -> list[QueryWord]:
    """The query's words with what each matches; compounds split by the words the index knows."""
    written = written_words(text_)
    parts = compound_parts((w for w in written if " " not in w), lambda stems: known(session, stems))
    return [query_word(w, parts.get(w, ())) for w in written]


def known(session: Session, stems: set[str]) -> set[str]:
    """Which of ``stems`` are words of the index (whole words, not endings of compounds)."""
    if not stems:
        return set()
    wanted = sorted(stems)
    if session.get_bind().dialect.name == "sqlite":
        found = session.execute(
            text("SELECT term FROM knowledge_index_vocab WHERE term IN :terms").bindparams(
                bindparam("terms", expanding=True)
            ),
            {"terms": wanted},
        )
        return {str(row[0]) for row in found}
    rows = session.execute(
        text(
            "SELECT t FROM unnest(CAST(:terms AS text[])) AS t WHERE EXISTS (SELECT 1 FROM knowledge_index "
            "WHERE search_vector @@ to_tsquery('simple', t))"
        ),
        {"terms": wanted},
    )
    return {str(row[0]) for row in rows}


def keyword_ranking(session: Session, text_: str, limit: int = CANDIDATES) -> tuple[list[int], list[int]]:
    """Row ids matching words of ``text_``, best first (at most ``limit``): those containing more than
    half of the query's words (the quorum), and the weaker ones that contain fewer; each ordered by how
    many of the query's words a row contains, then by rank. A query of one word: all are strong."""
    words = query_words(session, text_)
    ranked = _any_term(session, words, limit)
    if len(words) <= 1 or not ranked:
        return ranked, []
    texts = {
        int(row[0]): f" {row[1]} {row[2]} {row[3]} "
        for row in session.execute(
            select(R.id, R.title_terms, R.keyword_terms, R.body_terms).where(R.id.in_(ranked))
        )
    }
    needed = quorum(words)
    covered = {r: sum(1 for w in words if found_in(w, texts.get(r, ""))) for r in ranked}
    ordered = sorted(ranked, key=lambda r: -covered[r])
    return [r for r in ordered if covered[r] >= needed], [r for r in ordered if covered[r] < needed]


def _any_term(session: Session, words: list[QueryWord], limit: int) -> list[int]:
    if not words:
        return []
    if session.get_bind().dialect.name == "sqlite":
        alternatives = [
            *(f'"{" ".join(w.phrase)}"' for w in words if w.phrase),
            *(f'"{t}"' for w in words for t in w.exact),
            *(f'"{t}"*' for w in words for t in w.prefixes),
        ]
        rank = "bm25(knowledge_index_fts, 10.0, 5.0, 1.0)"
        rows = session.execute(
            text(
                f"SELECT rowid FROM knowledge_index_fts WHERE knowledge_index_fts MATCH :q "
                f"ORDER BY {rank}, rowid LIMIT :n"
            ),
            {"q": " OR ".join(dict.fromkeys(alternatives)), "n": limit},
        )
        return [int(row[0]) for row in rows]
    options = [
        *("(" + " <-> ".join(w.phrase) + ")" for w in words if w.phrase),
        *(t for w in words for t in w.exact),
        *(f"{t}:*" for w in words for t in w.prefixes),
    ]
    condition = func.to_tsquery("simple", bindparam("tsq", " | ".join(dict.fromkeys(options))))
    vector: ColumnClause[Any] = literal_column("knowledge_index.search_vector")
    weights: ColumnClause[Any] = literal_column("'{0.1, 0.2, 0.4, 1.0}'::float4[]")
    score = func.ts_rank(weights, vector, condition)
    statement = select(R.id).where(vector.op("@@")(condition)).order_by(score.desc(), R.id).limit(limit)
    return [int(row) for row in session.execute(statement).scalars()]
