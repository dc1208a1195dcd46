"""Management API: negotiations (both roles, with the review queue) and agreements."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.api.auth import ApiCaller, admin, reader
from allmende.api.errors import ApiProblem
from allmende.api.views import agreement_view, negotiation_view
from allmende.catalog.remote import RemoteCatalogError
from allmende.negotiation import repository, start
from allmende.negotiation.records import AgreementRecord, NegotiationRecord
from allmende.protocol.endpoint import in_read, in_transaction, node_of
from allmende.protocol.problems import ProtocolProblem

router = APIRouter()
Reader = Annotated[ApiCaller, Depends(reader)]
Admin = Annotated[ApiCaller, Depends(admin)]


class StartIn(BaseModel):
    address: str = Field(description="The provider node's public URL or did:web")
    offer_id: str


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class OfferIn(BaseModel):
    offer: dict[str, Any] = Field(description="ODRL offer (DSP compact form) with the proposed terms")


@router.get("/negotiations", tags=["negotiations"], response_model=list[dict[str, Any]])
async def list_negotiations(
    request: Request,
    _: Reader,
    state: str | None = None,
    role: Literal["provider", "consumer"] | None = None,
    review: bool | None = None,
    updated_after: datetime | None = Query(
        None, description="Only negotiations changed after this time (ISO 8601), e.g. to follow progress"
    ),
    limit: int = 200,
) -> Response:
    """Negotiations, newest first, filtered by state, role, review flag or last change."""
    node = node_of(request)
    # Read through Core and answered as JSON directly: clients follow progress by polling this list,
    # and ORM objects plus the response model's validation cost more than the query.
    columns = repository.NEGOTIATION_TABLE.c
    query = select(repository.NEGOTIATION_TABLE).order_by(columns.created_at.desc())
    query = query.limit(max(0, min(limit, 1000)))
    if updated_after is not None:
        moment = updated_after if updated_after.tzinfo else updated_after.replace(tzinfo=UTC)
        query = query.where(columns.updated_at > moment)
    if state:
        query = query.where(columns.state == state.upper())
    if role:
        query = query.where(columns.role == role)
    if review is not None:
        query = query.where(columns.review_pending.is_(review))
    found = await in_read(node, lambda s: [negotiation_view(r) for r in repository.negotiations(s, query)])
    return JSONResponse(found)


@router.get("/negotiations/review-queue", tags=["negotiations"])
async def review_queue(request: Request, _: Reader) -> list[dict[str, Any]]:
    """Negotiations waiting for the owner's decision."""
    node = node_of(request)
    query = select(NegotiationRecord).where(NegotiationRecord.review_pending.is_(True))
    return await in_read(node, lambda s: [negotiation_view(r) for r in s.execute(query).scalars()])


@router.get("/negotiations/{negotiation_id}", tags=["negotiations"])
async def get_negotiation(negotiation_id: str, request: Request, _: Reader) -> dict[str, Any]:
    node = node_of(request)
    record = await in_read(node, lambda s: s.get(NegotiationRecord, negotiation_id))
    if record is None:
        raise ApiProblem(404, f"no negotiation {negotiation_id}")
    return negotiation_view(record)


@router.post("/negotiations", status_code=201, tags=["negotiations"])
async def start_negotiation(body: StartIn, request: Request, caller: Admin) -> dict[str, Any]:
    """Ask another node for a contract on one of its offers (as consumer)."""
    node = node_of(request)
    try:
        record = await start.start_negotiation(node, body.address, body.offer_id, caller.actor)
    except RemoteCatalogError as exc:
        raise ApiProblem(502, str(exc)) from None
    except start.OfferNotFound as exc:
        raise ApiProblem(404, str(exc)) from None
    except ProtocolProblem as exc:
        raise ApiProblem(409 if exc.status == 400 else exc.status, "; ".join(exc.reasons)) from None
    return negotiation_view(record)


@router.post("/negotiations/{negotiation_id}/agree", tags=["negotiations"])
async def agree(negotiation_id: str, request: Request, caller: Admin) -> dict[str, Any]:
    """Provider: agree to the request on the table."""
    node = node_of(request)
    return await _decide(request, lambda s: node.provider.agree(s, negotiation_id, caller.actor))


@router.post("/negotiations/{negotiation_id}/counter-offer", tags=["negotiations"])
async def counter_offer(
    negotiation_id: str, body: OfferIn, request: Request, caller: Admin
) -> dict[str, Any]:
    """Provider or consumer: answer with other terms."""
    node = node_of(request)

    def work(session: Session) -> NegotiationRecord:
        record = session.get(NegotiationRecord, negotiation_id)
        if record is not None and record.role == "consumer":
            return node.consumer.counter_offer(session, negotiation_id, body.offer, caller.actor)
        return node.provider.counter_offer(session, negotiation_id, body.offer, caller.actor)

    return await _decide(request, work)


@router.post("/negotiations/{negotiation_id}/decline", tags=["negotiations"])
async def decline(negotiation_id: str, body: ReasonIn, request: Request, caller: Admin) -> dict[str, Any]:
    """Provider: decline with a reason (the negotiation ends TERMINATED)."""
    node = node_of(request)
    return await _decide(
        request, lambda s: node.provider.decline(s, negotiation_id, body.reason, caller.actor)
    )


@router.post("/negotiations/{negotiation_id}/accept", tags=["negotiations"])
async def accept(negotiation_id: str, request: Request, caller: Admin) -> dict[str, Any]:
    """Consumer: accept the provider's offer."""
    node = node_of(request)
    return await _decide(request, lambda s: node.consumer.accept(s, negotiation_id, caller.actor))


@router.post("/negotiations/{negotiation_id}/terminate", tags=["negotiations"])
async def terminate(negotiation_id: str, body: ReasonIn, request: Request, caller: Admin) -> dict[str, Any]:
    """Either role: end the negotiation with a reason."""
    node = node_of(request)

    def work(session: Session) -> NegotiationRecord:
        record = session.get(NegotiationRecord, negotiation_id)
        if record is not None and record.role == "provider":
            return node.provider.decline(session, negotiation_id, body.reason, caller.actor)
        return node.consumer.terminate(session, negotiation_id, body.reason, caller.actor)

    return await _decide(request, work)


async def _decide(request: Request, work: Callable[[Session], NegotiationRecord]) -> dict[str, Any]:
    node = node_of(request)
    try:
        record = await in_transaction(node, work)
    except ProtocolProblem as exc:
        raise ApiProblem(409 if exc.status == 400 else exc.status, "; ".join(exc.reasons)) from None
    return negotiation_view(record)


@router.get("/agreements", tags=["agreements"])
async def list_agreements(request: Request, _: Reader) -> list[dict[str, Any]]:
    node = node_of(request)
    query = select(AgreementRecord).order_by(AgreementRecord.signed_at.desc())
    return await in_read(node, lambda s: [agreement_view(r) for r in s.execute(query).scalars()])


@router.get("/agreements/{agreement_id}", tags=["agreements"])
async def get_agreement(agreement_id: str, request: Request, _: Reader) -> dict[str, Any]:
    node = node_of(request)
    record = await in_read(node, lambda s: s.get(AgreementRecord, agreement_id))
    if record is None:
        raise ApiProblem(404, f"no agreement {agreement_id}")
    return agreement_view(record)
