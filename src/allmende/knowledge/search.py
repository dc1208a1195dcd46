"""Hybrid search over the knowledge index: keywords (SQLite FTS5 bm25 / PostgreSQL ts_rank) and
meaning (sentence embeddings), fused by reciprocal rank, under hard filters.

Keywords: the words of the query, any of them (a need is written as a sentence, not as a list of words
that must all occur), as prefixes, without common German and English function words; bm25 weighs
title 10, keywords 5, text 1. Meaning: cosine similarity of the query's embedding with every item's.
Without the model the search is keyword-only and says so (``notice``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import ColumnClause, bindparam, func, literal_column, select, text
from sqlalchemy.orm import Session

from allmende.knowledge.embeddings import NOTICE, Embedder
from allmende.knowledge.filters import Filters
from allmende.knowledge.fusion import rrf
from allmende.knowledge.records import KnowledgeIndexRecord as R
from allmende.network.query_text import Term, parse

if TYPE_CHECKING:
    from allmende.knowledge.vectors import Mask, Vectors

_EMBEDDING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="knowledge-embedding")
CANDIDATES = 100
"""Rows each ranking contributes: past rank 100 a reciprocal rank adds under 1/160, nothing that matters."""
MAX_LIMIT = 200
Mode = Literal["hybrid", "keyword", "semantic"]
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "of",
        "on",
        "or",
        "our",
        "that",
        "the",
        "their",
        "this",
        "to",
        "us",
        "we",
        "what",
        "which",
        "who",
        "with",
        "want",
        "need",
        "needs",
        "looking",
        "would",
        "like",
        "can",
        "help",
        "der",
        "die",
        "das",
        "den",
        "dem",
        "des",
        "ein",
        "eine",
        "einen",
        "einem",
        "einer",
        "und",
        "oder",
        "für",
        "fur",
        "mit",
        "von",
        "zu",
        "zum",
        "zur",
        "im",
        "in",
        "ist",
        "sind",
        "wir",
        "unser",
        "unsere",
        "unseren",
        "unserem",
        "ich",
        "auf",
        "an",
        "bei",
        "aus",
        "wie",
        "was",
        "wer",
        "suchen",
        "suche",
        "brauchen",
        "möchten",
        "mochten",
        "wollen",
        "will",
        "uns",
        "es",
        "als",
        "auch",
        "nach",
        "über",
        "uber",
    ]
)


@dataclass(frozen=True)
class Hit:
    """One item found: where it comes from, what it is, and how each ranking placed it (from 1)."""

    row_id: int
    item_id: str
    node_did: str
    node_name: str
    kind: str
    title: str
    document: dict[str, Any]
    score: float
    keyword_rank: int | None
    semantic_rank: int | None
    body: str = ""
    keywords: str = ""


@dataclass(frozen=True)
class SearchResult:
    """The hits (best first), the mode that produced them and a notice when semantic search was off."""

    mode: Mode
    hits: list[Hit]
    notice: str | None = None
    scores: dict[int, float] = field(default_factory=dict)
    """Fused score of every candidate row (not only the returned page), for matchmaking."""


_SUFFIXES = ("ungen", "ing", "en", "er", "es", "ed", "e", "s", "n")


def stem(word: str) -> str:
    """A word without its most common German or English ending, matched as a prefix
    ("Förderprogrammen" finds "Förderprogramm", "events" finds "Event"); short words stay as they are."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def query_terms(text_: str) -> list[Term]:
    """The query's words (stemmed) and phrases without function words (all of them if only those remain)."""
    terms = [term for group in parse(text_) for term in group]
    kept = [t for t in terms if t.is_phrase or (t.words[0] not in STOPWORDS and len(t.words[0]) > 1)]
    return [t if t.is_phrase else Term((stem(t.words[0]),)) for t in kept or terms]


_MARKS = re.compile("[\u0300-\u036f]+")


def _folded(text_: str) -> str:
    """Lower case without diacritics (as the full-text index compares words): decomposed, the combining
    marks dropped, all in C (a translation table is looked up per character: three times slower)."""
    lowered = text_.casefold()
    return lowered if lowered.isascii() else _MARKS.sub("", unicodedata.normalize("NFKD", lowered))


def quorum(terms: list[Term]) -> int:
    """How many of the query's terms a keyword match must contain: half of them, rounded up."""
    return max(1, math.ceil(len(terms) / 2))


def keyword_ranking(session: Session, text_: str, limit: int = CANDIDATES) -> tuple[list[int], list[int]]:
    """Row ids matching words of ``text_``, best first (at most ``limit``): those containing at least
    half of the query's terms (the quorum), and the weaker ones that contain fewer."""
    terms = query_terms(text_)
    ranked = _any_term(session, terms, limit)
    if len(terms) <= 2 or not ranked:
        return ranked, []
    texts = {
        int(row[0]): _folded(f"{row[1]} {row[2]} {row[3]}")
        for row in session.execute(select(R.id, R.title, R.keywords, R.body).where(R.id.in_(ranked)))
    }
    needed = quorum(terms)
    words = [_folded(" ".join(t.words)) for t in terms]
    strong = [r for r in ranked if sum(1 for w in words if w in texts.get(r, "")) >= needed]
    chosen = set(strong)
    return strong, [r for r in ranked if r not in chosen]


def _any_term(session: Session, terms: list[Term], limit: int) -> list[int]:
    if not terms:
        return []
    if session.get_bind().dialect.name == "sqlite":
        query = " OR ".join('"' + " ".join(t.words) + '"' + ("" if t.is_phrase else "*") for t in terms)
        rank = "bm25(knowledge_index_fts, 10.0, 5.0, 1.0)"
        rows = session.execute(
            text(
                f"SELECT rowid FROM knowledge_index_fts WHERE knowledge_index_fts MATCH :q "
                f"ORDER BY {rank}, rowid LIMIT :n"
            ),
            {"q": query, "n": limit},
        )
        return [int(row[0]) for row in rows]
    tsq = " | ".join("(" + " <-> ".join(t.words) + ")" if t.is_phrase else t.words[0] + ":*" for t in terms)
    condition = func.to_tsquery("simple", bindparam("tsq", tsq))
    vector: ColumnClause[Any] = literal_column("knowledge_index.search_vector")
    weights: ColumnClause[Any] = literal_column("'{0.1, 0.2, 0.4, 1.0}'::float4[]")
    score = func.ts_rank(weights, vector, condition)
    statement = select(R.id).where(vector.op("@@")(condition)).order_by(score.desc(), R.id).limit(limit)
    return [int(row) for row in session.execute(statement).scalars()]


def search(
    session: Session,
    text_: str,
    *,
    filters: Filters = Filters(),
    limit: int = 20,
    embedder: Embedder | None = None,
    mode: Mode = "hybrid",
    weights: tuple[float, float] = (1.0, 1.0),
) -> SearchResult:
    """The items best matching ``text_`` under ``filters``. ``mode`` narrows to one ranking (the
    evaluation compares them); without an embedder it is always keyword-only."""
    from allmende.knowledge.vectors import vectors  # numpy, loaded at the first search, not at start-up

    limit = max(1, min(int(limit), MAX_LIMIT))
    notice = NOTICE if embedder is None else None
    if embedder is None:
        mode = "keyword"
    index = vectors(session, embedder.name if embedder else None)
    passed = index.mask(filters)
    if not text_.strip():
        rows = [int(i) for i in index.ids[passed][::-1][:limit]]
        return SearchResult(mode, _hits(session, [(r, 0.0) for r in rows], {}, {}), notice)
    rankings: list[list[int]] = []
    keyword: list[int] = []
    semantic: list[int] = []
    # The query's embedding is computed on another thread while the database ranks the keywords (the
    # model's C code releases the GIL): the two costs overlap instead of adding up.
    query_vector = (
        _EMBEDDING.submit(embedder.query, text_) if mode in ("hybrid", "semantic") and embedder else None
    )
    if mode in ("hybrid", "keyword"):
        wide = CANDIDATES * (1 if bool(passed.all()) else 5)
        strong, weak = keyword_ranking(session, text_, wide)
        # Alone, keyword search lists the weaker matches after the strong ones; fused, only the strong
        # ones count, since a match of one word in four says little against the meaning of the need.
        chosen = strong if mode == "hybrid" and embedder is not None else [*strong, *weak]
        keyword = [r for r in chosen if _passes(index.positions, passed, r)][:CANDIDATES]
        rankings.append(keyword)
    if query_vector is not None:
        semantic = _semantic_ranking(index, passed & index.has_vector, query_vector.result())
        rankings.append(semantic)
    chosen_weights = list(weights) if mode == "hybrid" and embedder is not None else None
    fused = rrf(rankings, weights=chosen_weights)
    keyword_ranks = {row: rank for rank, row in enumerate(keyword, start=1)}
    semantic_ranks = {row: rank for rank, row in enumerate(semantic, start=1)}
    hits = _hits(session, fused[:limit], keyword_ranks, semantic_ranks)
    return SearchResult(mode, hits, notice, dict(fused))


def _semantic_ranking(index: Vectors, usable: Mask, query: Any) -> list[int]:
    """Row ids of the ``CANDIDATES`` usable rows most similar to ``query``, best first."""
    import numpy as np

    count = int(np.count_nonzero(usable))
    if not count:
        return []
    # The whole matrix at once (no copy of the passing rows); the others pushed to the end; only the
    # best are sorted (argpartition), not all 20,000. einsum, not `@`: BLAS splits a matrix-vector
    # product over threads whose hand-over costs more than it saves (measured on 20,000 rows, two
    # cores: 3.6 ms CPU and 9 ms wall against 6.7 ms and 20 ms; more on a busy machine).
    similarity = np.einsum("ij,j->i", index.matrix, query)
    if count < len(similarity):
        similarity[~usable] = -np.inf
    top = min(CANDIDATES, count)
    best = np.argpartition(similarity, len(similarity) - top)[len(similarity) - top :]
    best = best[np.argsort(-similarity[best], kind="stable")]
    ranked: list[int] = index.ids[best].tolist()
    return ranked


def _passes(positions: dict[int, int], passed: Any, row: int) -> bool:
    position = positions.get(row)
    return position is not None and bool(passed[position])


def _hits(
    session: Session, ranked: list[tuple[int, float]], keyword: dict[int, int], semantic: dict[int, int]
) -> list[Hit]:
    if not ranked:
        return []
    columns = (R.id, R.item_id, R.node_did, R.node_name, R.kind, R.title, R.document, R.body, R.keywords)
    rows = {row.id: row for row in session.execute(select(*columns).where(R.id.in_([r for r, _ in ranked])))}
    return [
        Hit(
            row_id=row,
            item_id=rows[row].item_id,
            node_did=rows[row].node_did,
            node_name=rows[row].node_name,
            kind=rows[row].kind,
            title=rows[row].title,
            document=rows[row].document,
            score=score,
            keyword_rank=keyword.get(row),
            semantic_rank=semantic.get(row),
            body=rows[row].body,
            keywords=rows[row].keywords,
        )
        for row, score in ranked
        if row in rows
    ]
