"""Keyword ranking over the knowledge index: SQLite FTS5 (bm25) or PostgreSQL (ts_rank) over the
fields' terms (:mod:`.analysis`), any of the query's words (:mod:`.query_words`), and which matches
contain more than half of them (the quorum).

A word matched by several of its stems, parts or endings counts once in the quorum; rows containing
more of the query's words come first, the database's rank orders rows containing as many (ts_rank has
no inverse document frequency and would count each stem of a word: both databases order alike)."""

from __future__ import annotations

import math
from itertools import combinations
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


def keyword_ranking(
    session: Session, text_: str, limit: int = CANDIDATES, *, with_weak: bool = True
) -> tuple[list[int], list[int]]:
    """Row ids matching words of ``text_``, best first (at most ``limit``): those containing more than
    half of the query's words (the quorum), and the weaker ones that contain fewer; each ordered by how
    many of the query's words a row contains, then by rank. A query of one word: all are strong.

    On PostgreSQL the strong rows are asked for first, with a query that only they match (any quorum
    of the words): ts_rank reads each match's whole vector, and common words would make it rank
    thousands of rows that cannot be strong; the weak rows follow only when ``with_weak`` (hybrid
    search does not use them) and the strong ones leave room. SQLite's bm25 ranks all matches of any
    word faster than FTS5 evaluates the quorum query, so there one query asks for any word."""
    words = query_words(session, text_)
    if not words:
        return [], []
    needed = quorum(words) if len(words) > 1 else 1
    postgres = session.get_bind().dialect.name == "postgresql"
    any_word = [[w] for w in words]
    quorums = _quorums(words, needed) if postgres else None
    ranked = _ranked(session, words, quorums or any_word, limit)
    if quorums is not None and with_weak and len(ranked) < limit:
        seen = set(ranked)
        weaker = [r for r in _ranked(session, words, any_word, limit) if r not in seen]
        ranked += weaker[: limit - len(ranked)]
    if len(words) <= 1 or not ranked:
        return ranked, []
    texts = {
        int(row[0]): f" {row[1]} {row[2]} {row[3]} "
        for row in session.execute(
            select(R.id, R.title_terms, R.keyword_terms, R.body_terms).where(R.id.in_(ranked))
        )
    }
    covered = {r: sum(1 for w in words if found_in(w, texts.get(r, ""))) for r in ranked}
    ordered = sorted(ranked, key=lambda r: -covered[r])
    strong = [r for r in ordered if covered[r] >= needed]
    return strong, ([r for r in ordered if covered[r] < needed] if with_weak else [])


MAX_COMBINATIONS = 64
"""Above this many ways to pick a quorum of the query's words, the strong rows are not asked for apart."""


def _quorums(words: list[QueryWord], needed: int) -> list[list[QueryWord]] | None:
    """Every way to pick ``needed`` of the words: a strong row contains all words of one of them. None
    for a single word (nothing to pick) or more than :data:`MAX_COMBINATIONS` ways."""
    if len(words) <= 1 or math.comb(len(words), needed) > MAX_COMBINATIONS:
        return None
    return [list(group) for group in combinations(words, needed)]


def _ranked(session: Session, words: list[QueryWord], groups: list[list[QueryWord]], limit: int) -> list[int]:
    """The ``limit`` best rows by the database's rank for ``words``, among the rows that contain every
    word of at least one of ``groups`` (one group per word: any of the words)."""
    if session.get_bind().dialect.name == "sqlite":
        condition = " OR ".join("(" + " AND ".join(_fts_word(w) for w in group) + ")" for group in groups)
        rank = "bm25(knowledge_index_fts, 10.0, 5.0, 1.0)"
        rows = session.execute(
            text(
                f"SELECT rowid FROM knowledge_index_fts WHERE knowledge_index_fts MATCH :q "
                f"ORDER BY {rank}, rowid LIMIT :n"
            ),
            {"q": condition, "n": limit},
        )
        return [int(row[0]) for row in rows]
    matching = " | ".join("(" + " & ".join(_ts_word(w) for w in group) + ")" for group in groups)
    ranking = " | ".join(_ts_word(w) for w in words)
    vector: ColumnClause[Any] = literal_column("knowledge_index.search_vector")
    weights: ColumnClause[Any] = literal_column("'{0.1, 0.2, 0.4, 1.0}'::float4[]")
    score = func.ts_rank(weights, vector, func.to_tsquery("simple", bindparam("ranking", ranking)))
    statement = (
        select(R.id)
        .where(vector.op("@@")(func.to_tsquery("simple", bindparam("matching", matching))))
        .order_by(score.desc(), R.id)
        .limit(limit)
    )
    return [int(row) for row in session.execute(statement).scalars()]


def _fts_word(word: QueryWord) -> str:
    """An FTS5 query matching ``word`` in any of its forms."""
    alternatives = [
        *([f'"{" ".join(word.phrase)}"'] if word.phrase else []),
        *(f'"{t}"' for t in word.exact),
        *(f'"{t}"*' for t in word.prefixes),
    ]
    return "(" + " OR ".join(dict.fromkeys(alternatives)) + ")"


def _ts_word(word: QueryWord) -> str:
    """A PostgreSQL tsquery matching ``word`` in any of its forms."""
    alternatives = [
        *(["(" + " <-> ".join(word.phrase) + ")"] if word.phrase else []),
        *word.exact,
        *(f"{t}:*" for t in word.prefixes),
    ]
    return "(" + " | ".join(dict.fromkeys(alternatives)) + ")"
