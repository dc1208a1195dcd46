"""Management API: search the federated catalog, its crawled nodes, and a crawl on demand."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from allmende.api.auth import ApiCaller, admin, reader
from allmende.network.crawler import crawl
from allmende.network.records import FederatedNodeRecord
from allmende.network.search import MAX_LIMIT, SearchQuery, facets, search
from allmende.network.views import node_view, report_view, results_view
from allmende.protocol.endpoint import in_read, node_of

router = APIRouter(tags=["network search"])
Reader = Annotated[ApiCaller, Depends(reader)]
Admin = Annotated[ApiCaller, Depends(admin)]
Filter = Annotated[str | None, Query(max_length=500)]


@router.get("/search")
async def search_network(
    request: Request,
    _: Reader,
    q: Annotated[str, Query(max_length=500, description='Words, "phrases", OR')] = "",
    publisher: Filter = None,
    keyword: Filter = None,
    theme: Filter = None,
    format: Filter = None,
    sector: Filter = None,
    region: Filter = None,
    template: Filter = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Datasets of the federated catalog matching ``q`` and the filters, best first."""
    query = SearchQuery(q, publisher, keyword, theme, format, sector, region, template, limit, offset)
    results = await in_read(node_of(request), lambda s: search(s, query))
    return results_view(results, limit, offset)


@router.get("/search/facets")
async def search_facets(request: Request, _: Reader) -> dict[str, list[str]]:
    """The values each filter can take in the federated catalog."""
    return await in_read(node_of(request), facets)


@router.get("/federated-nodes")
async def federated_nodes(request: Request, _: Reader) -> list[dict[str, Any]]:
    """The nodes the crawler visits and how their last visits went."""
    query = select(FederatedNodeRecord).order_by(FederatedNodeRecord.name, FederatedNodeRecord.did)
    return await in_read(node_of(request), lambda s: [node_view(r) for r in s.execute(query).scalars()])


@router.post("/crawl")
async def crawl_now(request: Request, _: Admin, full: bool = False) -> dict[str, Any]:
    """Crawl the members of this node's directories now (``full``: ignore ETags and back-off)."""
    return report_view(await crawl(node_of(request), full=full))
