"""Management API: transfers (both roles, with the owner's control) and ending agreements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.api.auth import ApiCaller, admin, reader
from allmende.api.errors import ApiProblem
from allmende.clock import isoformat
from allmende.node import Node
from allmende.protocol.endpoint import in_read, in_transaction, node_of
from allmende.protocol.problems import ProtocolProblem
from allmende.transfer.records import TransferRecord

router = APIRouter()
Reader = Annotated[ApiCaller, Depends(reader)]
Admin = Annotated[ApiCaller, Depends(admin)]


class StartIn(BaseModel):
    agreement_id: str = Field(description="An agreement this node obtained as consumer")
    format: Literal["HttpData-PULL", "HttpData-PUSH"] = "HttpData-PULL"
    push_endpoint: str | None = Field(
        default=None, description="Push only: where the provider sends the data (default: this node)"
    )
    push_token: str | None = Field(default=None, description="Push only: the bearer token for push_endpoint")


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


def transfer_view(node: Node, record: TransferRecord, *, with_secrets: bool) -> dict[str, Any]:
    """A transfer for the API; the data address (it holds the access token) only for admin keys."""
    view: dict[str, Any] = {
        "id": record.id,
        "role": record.role,
        "state": record.state,
        "providerPid": record.provider_pid,
        "consumerPid": record.consumer_pid,
        "counterparty": record.counterparty_did,
        "agreementId": record.agreement_id,
        "format": record.format,
        "bytesServed": record.bytes_served + node.bytes_in_flight(record.id),
        "terminationReason": record.termination_reason,
        "receivedFile": record.received_file,
        "created": isoformat(record.created_at),
        "updated": isoformat(record.updated_at),
    }
    if with_secrets:
        view["dataAddress"] = record.data_address
    return view


@router.get("/transfers", tags=["transfers"])
async def list_transfers(
    request: Request,
    caller: Reader,
    role: Literal["provider", "consumer"] | None = None,
    state: str | None = None,
    agreement_id: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Transfers, newest first: who, which agreement, state, bytes served."""
    node = node_of(request)
    query = select(TransferRecord).order_by(TransferRecord.created_at.desc()).limit(min(limit, 1000))
    if role:
        query = query.where(TransferRecord.role == role)
    if state:
        query = query.where(TransferRecord.state == state.upper())
    if agreement_id:
        query = query.where(TransferRecord.agreement_id == agreement_id)
    secrets = caller.role == "admin"
    return await in_read(
        node, lambda s: [transfer_view(node, r, with_secrets=secrets) for r in s.execute(query).scalars()]
    )


@router.get("/transfers/{transfer_id}", tags=["transfers"])
async def get_transfer(transfer_id: str, request: Request, caller: Reader) -> dict[str, Any]:
    node = node_of(request)
    record = await in_read(node, lambda s: s.get(TransferRecord, transfer_id))
    if record is None:
        raise ApiProblem(404, f"no transfer {transfer_id}")
    return transfer_view(node, record, with_secrets=caller.role == "admin")


@router.post("/transfers", status_code=201, tags=["transfers"])
async def start_transfer(body: StartIn, request: Request, caller: Admin) -> dict[str, Any]:
    """As consumer: ask for the data of an agreement (HTTP pull, or push to an endpoint)."""
    node = node_of(request)
    return await _act(
        request,
        lambda s: node.consumer_transfers.start(
            s,
            body.agreement_id,
            caller.actor,
            data_format=body.format,
            push_endpoint=body.push_endpoint,
            push_token=body.push_token,
        ),
    )


@router.post("/transfers/{transfer_id}/suspend", tags=["transfers"])
async def suspend(transfer_id: str, body: ReasonIn, request: Request, caller: Admin) -> dict[str, Any]:
    return await _on(request, transfer_id, lambda side, s, r: side.suspend(s, r, body.reason, caller.actor))


@router.post("/transfers/{transfer_id}/resume", tags=["transfers"])
async def resume(transfer_id: str, request: Request, caller: Admin) -> dict[str, Any]:
    return await _on(request, transfer_id, lambda side, s, r: side.resume(s, r, caller.actor))


@router.post("/transfers/{transfer_id}/complete", tags=["transfers"])
async def complete(transfer_id: str, request: Request, caller: Admin) -> dict[str, Any]:
    return await _on(request, transfer_id, lambda side, s, r: side.complete(s, r, caller.actor))


@router.post("/transfers/{transfer_id}/terminate", tags=["transfers"])
async def terminate(transfer_id: str, body: ReasonIn, request: Request, caller: Admin) -> dict[str, Any]:
    return await _on(request, transfer_id, lambda side, s, r: side.terminate(s, r, body.reason, caller.actor))


@router.post("/agreements/{agreement_id}/terminate", tags=["agreements"])
async def terminate_agreement(
    agreement_id: str, body: ReasonIn, request: Request, caller: Admin
) -> dict[str, Any]:
    """As provider: end an agreement; its transfers are terminated and their tokens stop working."""
    node = node_of(request)
    try:
        ended = await in_transaction(
            node,
            lambda s: node.provider_transfers.terminate_agreement(s, agreement_id, body.reason, caller.actor),
        )
    except ProtocolProblem as exc:
        raise ApiProblem(exc.status, "; ".join(exc.reasons)) from None
    return {"agreementId": agreement_id, "terminatedTransfers": ended}


async def _on(
    request: Request, transfer_id: str, action: Callable[[Any, Session, TransferRecord], None]
) -> dict[str, Any]:
    node = node_of(request)

    def work(session: Session) -> TransferRecord:
        record = session.get(TransferRecord, transfer_id)
        if record is None:
            raise ApiProblem(404, f"no transfer {transfer_id}")
        side = node.provider_transfers if record.role == "provider" else node.consumer_transfers
        action(side, session, record)
        return record

    return await _act(request, work)


async def _act(request: Request, work: Callable[[Session], TransferRecord]) -> dict[str, Any]:
    node = node_of(request)
    try:
        record = await in_transaction(node, work)
    except ProtocolProblem as exc:
        raise ApiProblem(409 if exc.status == 400 else exc.status, "; ".join(exc.reasons)) from None
    return transfer_view(node, record, with_secrets=True)
