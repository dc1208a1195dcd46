"""Management API of the knowledge hub under /api/v1/knowledge: publish, edit, withdraw, list and read this
node's items; search the knowledge index; matchmaking; crawl other nodes' items now; load the seed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from allmende.api.auth import ApiCaller, admin, reader
from allmende.api.errors import ApiProblem
from allmende.knowledge import service
from allmende.knowledge.crawl import crawl_knowledge
from allmende.knowledge.eligibility import CompanyProfile
from allmende.knowledge.embeddings import OFF_NOTICE, Embedder, embedder
from allmende.knowledge.filters import Filters
from allmende.knowledge.matchmaking import match
from allmende.knowledge.model import KINDS, STATUSES, KnowledgeError
from allmende.knowledge.regions import SIZE_CLASSES, region_code
from allmende.knowledge.search import MAX_LIMIT, search
from allmende.knowledge.seeding import load_seed
from allmende.knowledge.views import matches_view, search_view
from allmende.node import Node
from allmende.protocol.endpoint import in_read, in_transaction, node_of

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"])
Reader = Annotated[ApiCaller, Depends(reader)]
Admin = Annotated[ApiCaller, Depends(admin)]
T = TypeVar("T")
Filter = Annotated[str | None, Query(max_length=200)]


async def model_of(node: Node) -> Embedder | None:
    """The embedding model, unless the node's setting ``semantic_search`` is off (or it is missing)."""
    if not node.settings.semantic_search:
        return None
    return await anyio.to_thread.run_sync(embedder)


def publisher(node: Node) -> service.Publisher:
    """The node as publisher of its knowledge items."""
    return service.Publisher(node.did, node.name or node.did)


def _problem(exc: KnowledgeError) -> ApiProblem:
    return ApiProblem(404 if isinstance(exc, service.NotFound) else 400, str(exc), exc.details)


def item_view(record: Any, node: Node) -> dict[str, Any]:
    """An item of this node with its id, version and JSON-LD document."""
    return {
        "id": record.id,
        "kind": record.kind,
        "version": record.version,
        "item": service.item_document(record, publisher(node)),
    }


async def _write(node: Node, work: Callable[[Session], T]) -> T:
    try:
        return await in_transaction(node, work)
    except KnowledgeError as exc:
        raise _problem(exc) from None


@router.post("/items", status_code=201)
async def publish_item(request: Request, caller: Admin, data: Annotated[Any, Body()]) -> dict[str, Any]:
    """Publish a new item (validated; 400 with every bad field otherwise)."""
    node = node_of(request)
    model = await model_of(node)
    return await _write(
        node,
        lambda s: item_view(
            service.publish(s, data, actor=caller.actor, publisher=publisher(node), embedder=model), node
        ),
    )


@router.put("/items/{item_id}")
async def edit_item(
    item_id: str, request: Request, caller: Admin, data: Annotated[Any, Body()]
) -> dict[str, Any]:
    """Replace an item's content: a new version (the old ones are kept)."""
    node = node_of(request)
    model = await model_of(node)
    return await _write(
        node,
        lambda s: item_view(
            service.edit(s, item_id, data, actor=caller.actor, publisher=publisher(node), embedder=model),
            node,
        ),
    )


@router.delete("/items/{item_id}")
async def withdraw_item(item_id: str, request: Request, caller: Admin) -> dict[str, Any]:
    """Stop publishing an item (crawling nodes drop it at their next visit)."""
    node = node_of(request)
    record = await _write(
        node, lambda s: service.withdraw(s, item_id, actor=caller.actor, publisher=publisher(node))
    )
    return {"id": record.id, "withdrawn": True}


@router.get("/items")
async def list_items(request: Request, _: Reader, kind: Filter = None) -> list[dict[str, Any]]:
    """This node's published items (optionally one kind)."""
    node = node_of(request)
    if kind is not None and kind not in KINDS:
        raise ApiProblem(400, f"kind must be one of {', '.join(KINDS)}")
    return await in_read(node, lambda s: [item_view(r, node) for r in service.published(s, kind)])


@router.get("/items/{item_id}")
async def get_item(item_id: str, request: Request, _: Reader) -> dict[str, Any]:
    """One of this node's published items."""
    node = node_of(request)
    try:
        return await in_read(node, lambda s: item_view(service.get(s, item_id), node))
    except KnowledgeError as exc:
        raise _problem(exc) from None


@router.get("/items/{item_id}/versions")
async def item_versions(item_id: str, request: Request, _: Reader) -> list[dict[str, Any]]:
    """Every version of an item, oldest first."""
    node = node_of(request)

    def read(session: Session) -> list[dict[str, Any]]:
        return [
            {"version": v.version, "actor": v.actor, "createdAt": v.created_at.isoformat(), "data": v.data}
            for v in service.versions(session, item_id)
        ]

    try:
        return await in_read(node, read)
    except KnowledgeError as exc:
        raise _problem(exc) from None


def filters(
    kind: str | None, region: str | None, sector: str | None, size: str | None, status: str | None
) -> Filters:
    """Checked hard filters (ApiProblem 400 for unknown values)."""
    if kind and kind not in KINDS:
        raise ApiProblem(400, f"kind must be one of {', '.join(KINDS)}")
    if size and size not in SIZE_CLASSES:
        raise ApiProblem(400, f"size must be one of {', '.join(SIZE_CLASSES)}")
    if status and status not in STATUSES:
        raise ApiProblem(400, f"status must be one of {', '.join(STATUSES)}")
    code = None
    if region:
        code = region_code(region)
        if code is None:
            raise ApiProblem(400, f"unknown region {region!r}: give a German state, a country code or EU")
    return Filters(kind or None, code, sector or None, size or None, status or None)


@router.get("/search")
async def search_items(
    request: Request,
    _: Reader,
    q: Annotated[str, Query(max_length=1000)] = "",
    kind: Filter = None,
    region: Filter = None,
    sector: Filter = None,
    size: Filter = None,
    status: Filter = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> dict[str, Any]:
    """Hybrid search (keywords + meaning, fused by reciprocal rank) over this node's and crawled items.
    Without the semantic model: keyword-only, with a ``notice`` saying so."""
    node = node_of(request)
    chosen = filters(kind, region, sector, size, status)
    model = await model_of(node)
    result = await in_read(node, lambda s: search(s, q, filters=chosen, limit=limit, embedder=model))
    return _turned_off(node, search_view(result))


def _turned_off(node: Node, view: dict[str, Any]) -> dict[str, Any]:
    if not node.settings.semantic_search:
        view["notice"] = OFF_NOTICE
    return view


@router.post("/match")
async def match_need(request: Request, _: Reader, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """Matchmaking: ``{"need": "...", "profile": {sector, size_class, employees, region,
    company_age_years, turnover_eur}, "limit": 10}``; profile fields left out come from the node's
    settings; ``limit`` items per group (1 to 50)."""
    node = node_of(request)
    need = body.get("need")
    if not isinstance(need, str) or not need.strip() or len(need) > 2000:
        raise ApiProblem(400, "need must be a text of 1 to 2000 characters")
    profile = profile_from(body.get("profile") or {}, node)
    limit = body.get("limit", 10)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 50:
        raise ApiProblem(400, "limit must be a whole number from 1 to 50")
    model = await model_of(node)
    groups = await in_read(node, lambda s: match(s, profile, need, embedder=model, per_group=limit))
    return _turned_off(node, {"profile": profile.__dict__, **matches_view(groups)})


def profile_from(values: Any, node: Node) -> CompanyProfile:
    """A company profile from JSON, defaults from the node's settings; ApiProblem 400 when invalid."""
    if not isinstance(values, dict):
        raise ApiProblem(400, "profile must be an object")
    settings = node.settings
    try:
        return CompanyProfile(
            sector=str(values.get("sector", settings.sector) or ""),
            size_class=str(values.get("size_class", settings.size_class) or ""),
            employees=_number(values.get("employees"), int),
            region=str(values.get("region", settings.region) or ""),
            company_age_years=_number(values.get("company_age_years"), float),
            turnover_eur=_number(values.get("turnover_eur"), float),
        )
    except (TypeError, ValueError) as exc:
        raise ApiProblem(400, f"invalid profile: {exc}") from None


def _number(value: Any, kind: type[int] | type[float]) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    return kind(value)


@router.post("/crawl")
async def crawl_now(request: Request, _: Admin, full: bool = False) -> dict[str, Any]:
    """Pull the published knowledge items of the nodes in this node's directories now."""
    report = await crawl_knowledge(node_of(request), full=full)
    return {
        "nodesSeen": report.nodes_seen,
        "nodesUpdated": report.nodes_updated,
        "nodesUnchanged": report.nodes_unchanged,
        "nodesFailed": report.nodes_failed,
        "nodesWaiting": report.nodes_waiting,
        "items": report.items,
        "itemsSkipped": report.items_skipped,
        "seconds": round(report.seconds, 3),
    }


@router.post("/seed")
async def seed(request: Request, caller: Admin, demo: bool = False) -> JSONResponse:
    """Publish the bundled seed programmes (and with ``demo`` the demo cases and experts) that this node
    does not publish yet (by title and kind)."""
    node = node_of(request)
    model = await model_of(node)
    added = await in_transaction(
        node, lambda s: load_seed(s, actor=caller.actor, publisher=publisher(node), embedder=model, demo=demo)
    )
    return JSONResponse({"added": added}, status_code=201 if added else 200)
