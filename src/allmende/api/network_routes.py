"""Management API of the network: the directory this node runs, and this node's memberships."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from allmende.api.auth import ApiCaller, admin, reader
from allmende.api.errors import ApiProblem
from allmende.network import directory, membership
from allmende.network.errors import NetworkError
from allmende.protocol.endpoint import in_read, in_transaction, node_of

router = APIRouter()
Reader = Annotated[ApiCaller, Depends(reader)]
Admin = Annotated[ApiCaller, Depends(admin)]


class Decision(BaseModel):
    """Why an application is refused or a membership revoked."""

    reason: str = Field(min_length=1, max_length=2000)


class ApplicationIn(BaseModel):
    """Apply to a community's directory."""

    directory_url: str = Field(min_length=1, max_length=1000, description="Base URL of the directory's node")
    message: str = Field(default="", max_length=4000, description="A note for the directory's operator")


@router.get("/directory/entries", tags=["directory"])
async def directory_entries(
    request: Request, _: Reader, state: str | None = Query(None)
) -> list[dict[str, Any]]:
    """Applications and members of the directory this node runs, newest first."""
    node = node_of(request)
    try:
        entries = await in_read(node, lambda s: directory.list_entries(s, state))
    except NetworkError as error:
        raise ApiProblem(error.status, error.message) from None
    return [directory.entry_view(entry) for entry in entries]


@router.post("/directory/entries/{entry_id}/admit", tags=["directory"])
async def admit(entry_id: str, request: Request, caller: Admin) -> dict[str, Any]:
    """Admit a pending applicant (issues its membership credential)."""
    node = node_of(request)
    return await _decide(request, lambda s: directory.admit(s, node, entry_id, caller.actor))


@router.post("/directory/entries/{entry_id}/refuse", tags=["directory"])
async def refuse(entry_id: str, body: Decision, request: Request, caller: Admin) -> dict[str, Any]:
    """Refuse a pending application, with the reason."""
    return await _decide(request, lambda s: directory.refuse(s, entry_id, body.reason, caller.actor))


@router.post("/directory/entries/{entry_id}/revoke", tags=["directory"])
async def revoke(entry_id: str, body: Decision, request: Request, caller: Admin) -> dict[str, Any]:
    """Revoke a membership: its credential is on the revocation list from now on."""
    return await _decide(request, lambda s: directory.revoke(s, entry_id, body.reason, caller.actor))


async def _decide(request: Request, work: Any) -> dict[str, Any]:
    node = node_of(request)
    if not node.settings.directory_enabled:
        raise ApiProblem(404, "this node runs no directory (setting directory_enabled)")
    try:
        entry = await in_transaction(node, work)
    except NetworkError as error:
        raise ApiProblem(error.status, error.message) from None
    return directory.entry_view(entry)


@router.get("/memberships", tags=["memberships"])
async def memberships(request: Request, _: Reader) -> list[dict[str, Any]]:
    """This node's memberships and applications, newest first."""
    node = node_of(request)
    records = await in_read(node, membership.list_memberships)
    return [membership.membership_view(record) for record in records]


@router.post("/memberships", status_code=201, tags=["memberships"])
async def apply(body: ApplicationIn, request: Request, _: Admin) -> dict[str, Any]:
    """Apply to a directory; 502 when it cannot be reached, 409 when this node already applied."""
    try:
        record = await membership.apply(node_of(request), body.directory_url, body.message)
    except NetworkError as error:
        raise ApiProblem(error.status, error.message) from None
    return membership.membership_view(record)


@router.post("/memberships/{membership_id}/refresh", tags=["memberships"])
async def refresh(membership_id: str, request: Request, _: Admin) -> dict[str, Any]:
    """Ask the directory about the application now (stores the credential once admitted)."""
    try:
        record = await membership.refresh(node_of(request), membership_id)
    except NetworkError as error:
        raise ApiProblem(error.status, error.message) from None
    return membership.membership_view(record)
