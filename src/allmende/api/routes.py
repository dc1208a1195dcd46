"""The management REST API under /api/v1 (OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from allmende import __version__
from allmende.api.auth import ApiCaller, reader
from allmende.api.catalog_routes import router as catalog_api
from allmende.api.negotiation_routes import router as negotiation_api
from allmende.api.network_routes import router as network_api
from allmende.api.search_routes import router as search_api
from allmende.api.transfer_routes import router as transfer_api
from allmende.api.views import audit_view
from allmende.audit import log as audit
from allmende.audit.records import AuditRecord
from allmende.compute.api_routes import router as compute_api
from allmende.protocol.endpoint import in_read, node_of

router = APIRouter(prefix="/api/v1")
Reader = Annotated[ApiCaller, Depends(reader)]


@router.get("/node", tags=["node"])
async def node_info(request: Request, caller: Reader) -> dict[str, Any]:
    """Who this node is and where it listens."""
    node = node_of(request)
    return {
        "name": node.name,
        "did": node.did,
        "publicUrl": node.base_url,
        "dspUrl": node.dsp_url,
        "version": __version__,
        "role": caller.role,
    }


@router.get("/audit", tags=["audit"])
async def audit_log(
    request: Request,
    _: Reader,
    after: int = 0,
    limit: int = 200,
    event: str | None = None,
    subject: str | None = None,
) -> list[dict[str, Any]]:
    """Audit entries after ``after`` (by sequence number), oldest first."""
    node = node_of(request)
    query = (
        select(AuditRecord).where(AuditRecord.seq > after).order_by(AuditRecord.seq).limit(min(limit, 5000))
    )
    if event:
        query = query.where(AuditRecord.event == event)
    if subject:
        query = query.where(AuditRecord.subject == subject)
    return await in_read(node, lambda s: [audit_view(r) for r in s.execute(query).scalars()])


@router.get("/audit/verify", tags=["audit"])
async def audit_verify(request: Request, _: Reader) -> dict[str, Any]:
    """Check the whole hash chain; lists every edited, deleted or reordered entry."""
    node = node_of(request)
    report = await in_read(node, audit.verify)
    return {
        "ok": report.ok,
        "entries": report.entries,
        "problems": [{"seq": p.seq, "reason": p.reason} for p in report.problems],
    }


router.include_router(catalog_api)
router.include_router(negotiation_api)
router.include_router(transfer_api)
router.include_router(network_api)
router.include_router(search_api)
router.include_router(compute_api)
