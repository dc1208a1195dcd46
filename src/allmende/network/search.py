"""Search over the federated catalog: full text (SQLite FTS5 / PostgreSQL tsvector) plus filters.

Relevance: FTS5's bm25 with column weights title 10, keywords 5, description 1, publisher 2; on
PostgreSQL ts_rank over the weighted vector (title A, keywords B, description C, publisher D). Without
text, the newest datasets come first. User text only ever reaches the database as a bound parameter
built by :mod:`allmende.network.query_text`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnClause,
    Select,
    bindparam,
    column,
    func,
    intersect,
    literal,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from allmende.network.facets import facet_token
from allmende.network.federation import MAX_VALUE_LENGTH, catalog_version
from allmende.network.query_text import fts5_query, parse, tsquery
from allmende.network.records import FederatedDatasetRecord, FederatedNodeRecord, FederatedValueRecord

MAX_LIMIT = 200
MAX_FACET_VALUES = 500
_D = FederatedDatasetRecord.__table__
_N = FederatedNodeRecord.__table__
_V = FederatedValueRecord.__table__
FILTERS = ("publisher", "keyword", "theme", "format", "template", "sector", "region")
_FACETS: dict[str, tuple[tuple[Any, ...], dict[str, list[str]]]] = {}
_FTS = table("federated_datasets_fts", column("rowid"))


@dataclass(frozen=True)
class SearchQuery:
    """What to look for: ``text`` plus exact filters (each None = any), one page of results."""

    text: str = ""
    publisher: str | None = None
    keyword: str | None = None
    theme: str | None = None
    format: str | None = None
    sector: str | None = None
    region: str | None = None
    template: str | None = None
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class SearchHit:
    """One dataset found, with the node that offers it (negotiations start there)."""

    node_did: str
    node_name: str
    dsp_url: str
    dataset_id: str
    title: str
    description: str
    keywords: list[str]
    formats: list[str]
    publisher: str
    sector: str
    region: str
    templates: list[str]
    offers: list[dict[str, Any]]
    score: float
    themes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SearchResults:
    """The total number of matches and the hits of the requested page."""

    total: int
    hits: list[SearchHit]


def _lines(value: str | None) -> list[str]:
    return [line for line in (value or "").split("\n") if line]


def _chosen(query: SearchQuery) -> list[tuple[str, str]]:
    """The filters set in ``query``: (kind, value in lower case)."""
    return [
        (kind, value.strip().lower()[:MAX_VALUE_LENGTH])
        for kind in FILTERS
        if isinstance(value := getattr(query, kind), str) and value.strip()
    ]


def _filtered(chosen: list[tuple[str, str]]) -> Any:
    """Row ids of the datasets passing every filter (index look-ups only), or None without filters."""
    rows = [select(_V.c.dataset_row).where(_V.c.kind == kind, _V.c.key == key) for kind, key in chosen]
    if not rows:
        return None
    return rows[0] if len(rows) == 1 else intersect(*rows)


def _fts_match(query: SearchQuery, chosen: list[tuple[str, str]]) -> str:
    """One FTS5 expression for the words and the filters (as facet tokens, which no word can match)."""
    groups = parse(query.text)
    parts = [f"({fts5_query(groups)})"] if groups else []
    parts.extend(f'"{facet_token(kind, key)}"' for kind, key in chosen)
    return " AND ".join(parts)


def _matches(session: Session, query: SearchQuery) -> tuple[Select[Any], Select[Any]]:
    """(count statement, page statement without limit) of the datasets matching ``query``; the page
    statement yields (row id, score), best first. The wide dataset rows are not touched here."""
    groups = parse(query.text)
    chosen = _chosen(query)
    if not groups and not chosen:
        return select(func.count()).select_from(_D), _newest(select(_D.c.id, literal(0.0)))
    if session.get_bind().dialect.name == "sqlite":
        match = literal_column("federated_datasets_fts").op("MATCH")(
            bindparam("fts", _fts_match(query, chosen))
        )
        count = select(func.count()).select_from(_FTS).where(match)
        if groups:
            # Straight from the FTS table, ordered by bm25 with a limit: SQLite keeps only the best rows
            # while it scores, and scores only the rows that passed the filters too.
            rank: ColumnClause[Any] = literal_column("bm25(federated_datasets_fts, 10.0, 5.0, 1.0, 2.0, 0.0)")
            page = select(_FTS.c.rowid.label("id"), (-rank).label("score")).where(match)
            return count, page.order_by(rank, _FTS.c.rowid.desc())
        # Filters only: the index on (id, modified) orders the matches without reading the wide rows
        # (SQLite would otherwise pick the primary key and read each row for its date).
        dated = (
            text(
                "SELECT dated.id AS id, dated.modified AS modified FROM federated_datasets AS dated "
                "INDEXED BY ix_federated_datasets_row_modified "
                "WHERE dated.id IN (SELECT rowid FROM federated_datasets_fts WHERE federated_datasets_fts "
                "MATCH :fts)"
            )
            .bindparams(bindparam("fts", _fts_match(query, chosen)))
            .columns(column("id"), column("modified"))
            .subquery("dated")
        )
        page = select(dated.c.id, literal(0.0)).order_by(dated.c.modified.desc(), dated.c.id.desc())
        return count, page
    filtered = _filtered(chosen)
    if not groups:
        rows = filtered.subquery()
        count = select(func.count()).select_from(rows)
        return count, _newest(select(_D.c.id, literal(0.0)).where(_D.c.id.in_(select(rows.c[0]))))
    condition = func.to_tsquery("simple", bindparam("tsq", tsquery(groups)))
    vector: ColumnClause[Any] = literal_column("federated_datasets.search_vector")
    weights: ColumnClause[Any] = literal_column("'{0.1, 0.2, 0.4, 1.0}'::float4[]")
    score = func.ts_rank(weights, vector, condition).label("score")
    statement = select(_D.c.id.label("id"), score).where(vector.op("@@")(condition))
    if filtered is not None:
        statement = statement.where(_D.c.id.in_(filtered))
    count = select(func.count()).select_from(statement.subquery())
    return count, statement.order_by(literal_column("score").desc(), literal_column("id").desc())


def _newest(statement: Select[Any]) -> Select[Any]:
    return statement.order_by(_D.c.modified.desc().nulls_last(), _D.c.id.desc())


def search(session: Session, query: SearchQuery) -> SearchResults:
    """One page of the datasets matching ``query``, best first, and how many match in all."""
    limit = max(1, min(int(query.limit), MAX_LIMIT))
    offset = max(0, int(query.offset))
    count, page = _matches(session, query)
    postgres = session.get_bind().dialect.name != "sqlite"
    if postgres and (parse(query.text) or _chosen(query)):
        # The total comes with the page (a window over all matches): the matching runs once.
        listed = session.execute(page.add_columns(func.count().over()).limit(limit).offset(offset)).all()
        total = int(listed[0][2]) if listed else int(session.execute(count).scalar_one())
    else:
        total = int(session.execute(count).scalar_one())
        listed = session.execute(page.limit(limit).offset(offset)).all() if offset < total else []
    if not listed:
        return SearchResults(total, [])
    scores = {int(row[0]): float(row[1] or 0.0) for row in listed}
    rows = session.execute(
        select(_D, _N.c.name, _N.c.dsp_url, _N.c.sector, _N.c.region)
        .select_from(_D.join(_N, _N.c.did == _D.c.node_did))
        .where(_D.c.id.in_(list(scores)))
    ).mappings()
    by_id = {int(row["id"]): row for row in rows}
    return SearchResults(total, [_hit(by_id[i], scores[i]) for i in scores if i in by_id])


def _hit(row: Any, score: float) -> SearchHit:
    offers = row["offers"] if isinstance(row["offers"], list) else []
    return SearchHit(
        node_did=row["node_did"],
        node_name=row["name"] or "",
        dsp_url=row["dsp_url"],
        dataset_id=row["dataset_id"],
        title=row["title"],
        description=row["description"],
        keywords=_lines(row["keywords"]),
        formats=_lines(row["formats"]),
        publisher=row["publisher"],
        sector=row["sector"] or "",
        region=row["region"] or "",
        templates=_lines(row["templates"]),
        offers=[
            {"id": offer.get("@id"), "policy": offer}
            for offer in offers
            if isinstance(offer, dict) and isinstance(offer.get("@id"), str)
        ],
        score=score,
        themes=_lines(row["themes"]),
    )


def facets(session: Session) -> dict[str, list[str]]:
    """The distinct values of every filter (publisher, keyword, theme, format, sector, region,
    template) in the federated catalog, sorted, for the filter selects.

    Kept per database until the federated catalog changes (a crawl stored something, or the row
    count or highest row id differ), since reading them scans every value.
    """
    url = str(session.get_bind().engine.url)
    mark = tuple(session.execute(select(func.count(), func.max(_D.c.id)).select_from(_D)).one())
    fingerprint = (*mark, catalog_version())
    cached = _FACETS.get(url)
    if cached is not None and cached[0] == fingerprint:
        return {name: list(values) for name, values in cached[1].items()}
    found: dict[str, set[str]] = {name: set() for name in FILTERS}
    for kind, value in session.execute(select(_V.c.kind, _V.c.value).distinct()):
        if kind in found:
            found[kind].add(value)
    result = {name: sorted(values, key=str.casefold)[:MAX_FACET_VALUES] for name, values in found.items()}
    _FACETS[url] = (fingerprint, result)
    return {name: list(values) for name, values in result.items()}
