"""Hybrid search over the knowledge index: keywords (SQLite FTS5 bm25 / PostgreSQL ts_rank) and
meaning (sentence embeddings), fused by reciprocal rank, under hard filters.

Keywords (:mod:`.keywords`): the words of the query, any of them (a need is written as a sentence, not
as a list of words that must all occur), by their stems, compound parts and endings, without common
German and English function words; bm25 weighs title 10, keywords 5, text 1. Meaning: cosine
similarity of the query's embedding with every item's. In hybrid search a third ranking joins with a
small weight: the candidates ranked by the words of the best hit's title and keywords (:mod:`.feedback`).
Without the model the search is keyword-only and says so (``notice``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.knowledge.embeddings import NOTICE, Embedder
from allmende.knowledge.feedback import similar
from allmende.knowledge.filters import Filters
from allmende.knowledge.fusion import rrf
from allmende.knowledge.keywords import CANDIDATES, keyword_ranking
from allmende.knowledge.records import KnowledgeIndexRecord as R

if TYPE_CHECKING:
    from allmende.knowledge.vectors import Mask, Vectors

_EMBEDDING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="knowledge-embedding")
MAX_LIMIT = 200
FUSION_K = 30
"""Reciprocal rank fusion's k: how much the first places of a ranking count above the later ones."""
FEEDBACK_WEIGHT = 0.3
"""Weight of the ranking of items similar to the best hit (the query's own rankings weigh 1)."""
__all__ = ["CANDIDATES", "MAX_LIMIT", "Hit", "Mode", "SearchResult", "keyword_ranking", "search"]
Mode = Literal["hybrid", "keyword", "semantic"]


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
    terms: str = ""
    """The index terms of its title, keywords and text (what the keyword search matched)."""


@dataclass(frozen=True)
class SearchResult:
    """The hits (best first), the mode that produced them and a notice when semantic search was off."""

    mode: Mode
    hits: list[Hit]
    notice: str | None = None
    scores: dict[int, float] = field(default_factory=dict)
    """Fused score of every candidate row (not only the returned page), for matchmaking."""


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
    wide = CANDIDATES * (1 if bool(passed.all()) else 5)
    if mode in ("hybrid", "keyword"):
        fused_alone = mode == "hybrid" and embedder is not None
        strong, weak = keyword_ranking(session, text_, wide, with_weak=not fused_alone)
        # Alone, keyword search lists the weaker matches after the strong ones; fused, only the strong
        # ones count, since a match of one word in four says little against the meaning of the need.
        chosen = strong if fused_alone else [*strong, *weak]
        keyword = [r for r in chosen if _passes(index.positions, passed, r)][:CANDIDATES]
        rankings.append(keyword)
    if query_vector is not None:
        semantic = _semantic_ranking(index, passed & index.has_vector, query_vector.result())
        rankings.append(semantic)
    chosen_weights = list(weights) if mode == "hybrid" and embedder is not None else [1.0] * len(rankings)
    fused = rrf(rankings, k=FUSION_K, weights=chosen_weights)
    if mode == "hybrid" and embedder is not None and fused:
        # More like the best hit (see feedback.py): the candidates ranked by its title's and keywords'
        # words join the fusion with a small weight.
        pool = list(dict.fromkeys([*semantic, *keyword]))
        terms = _terms(session, [fused[0][0], *pool])
        best = terms.get(fused[0][0], "").split("\n")[0]
        candidates = {row: terms[row].replace("\n", " ") for row in pool if row in terms}
        rankings.append(similar(best, candidates))
        fused = rrf(rankings, k=FUSION_K, weights=[*chosen_weights, FEEDBACK_WEIGHT])
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


def _terms(session: Session, rows: list[int]) -> dict[int, str]:
    """Row → its title's and keywords' terms, a line break, then its text's terms."""
    found = session.execute(select(R.id, R.title_terms, R.keyword_terms, R.body_terms).where(R.id.in_(rows)))
    return {int(row[0]): f"{row[1]} {row[2]}\n{row[3]}" for row in found}


def _passes(positions: dict[int, int], passed: Any, row: int) -> bool:
    position = positions.get(row)
    return position is not None and bool(passed[position])


def _hits(
    session: Session, ranked: list[tuple[int, float]], keyword: dict[int, int], semantic: dict[int, int]
) -> list[Hit]:
    if not ranked:
        return []
    columns = (R.id, R.item_id, R.node_did, R.node_name, R.kind, R.title, R.document, R.body, R.keywords)
    terms = (R.title_terms, R.keyword_terms, R.body_terms)
    wanted = R.id.in_([r for r, _ in ranked])
    rows = {row.id: row for row in session.execute(select(*columns, *terms).where(wanted))}
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
            terms=f"{rows[row].title_terms} {rows[row].keyword_terms} {rows[row].body_terms}",
        )
        for row, score in ranked
        if row in rows
    ]
