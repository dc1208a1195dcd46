"""The directory's HTTP endpoints (only when ``directory_enabled``; 404 otherwise).

``POST /directory/applications`` and ``GET /directory/applications/{id}`` need the applicant's
self-issued ID token (audience: this node's DID); the member list and the status list are public and
signed by the directory.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from allmende.api.errors import ApiProblem
from allmende.clock import utcnow
from allmende.identity.jws import sign_jwt
from allmende.network import directory
from allmende.network.errors import NetworkError
from allmende.network.member_list import sign_member_list
from allmende.network.records import DirectoryEntryRecord
from allmende.network.status_list import status_list_claims, status_list_credential
from allmende.node import Node
from allmende.protocol.endpoint import caller_claims, in_read, in_transaction, node_of, read_json_object

router = APIRouter(prefix="/directory", tags=["directory"])
MAX_APPLICATION_BYTES = 64_000
STATUS_LIST_VALIDITY = timedelta(days=1)


def _directory(request: Request) -> Node:
    node = node_of(request)
    if not node.settings.directory_enabled:
        raise ApiProblem(404, "this node runs no directory")
    return node


@router.post("/applications", status_code=201)
async def apply(request: Request) -> JSONResponse:
    """An application to join the community; the caller's token says who applies."""
    node = _directory(request)
    claims = await caller_claims(request)
    body = await read_json_object(
        request,
        MAX_APPLICATION_BYTES,
        what="the application",
        not_object="the application must be a JSON object",
    )
    try:
        application = directory.application_from_json(body)
        entry = await in_transaction(
            node, lambda s: directory.receive_application(s, node, claims.issuer, application)
        )
    except NetworkError as error:
        raise ApiProblem(error.status, error.message) from None
    return JSONResponse(directory.application_view(entry, node), status_code=201)


@router.get("/applications/{entry_id}")
async def application(entry_id: str, request: Request) -> JSONResponse:
    """The application's state (and the credential once admitted), for the applicant only."""
    node = _directory(request)
    claims = await caller_claims(request)
    entry = await in_read(node, lambda s: s.get(DirectoryEntryRecord, entry_id))
    if entry is None or entry.applicant_did != claims.issuer:
        raise ApiProblem(404, f"no application {entry_id} of {claims.issuer}")
    return JSONResponse(directory.application_view(entry, node))


@router.get("/members")
async def members(request: Request) -> Response:
    """The member list as a JWT signed by the directory (public)."""
    node = _directory(request)
    view = await in_read(node, lambda s: directory.members_view(s, node))
    key = node.keys.active
    token = sign_member_list(view, key, issuer=node.did, key_id=key.key_id, now=utcnow())
    return Response(token, media_type="application/jwt")


@router.get("/status-list")
async def status_list(request: Request) -> Response:
    """The revocation status list as a VC-JWT (public)."""
    node = _directory(request)
    status = await in_read(node, directory.revocations)
    now = utcnow()
    url = node.base_url + directory.STATUS_LIST_PATH
    credential = status_list_credential(
        node.did, url, status, valid_from=now, valid_until=now + STATUS_LIST_VALIDITY
    )
    key = node.keys.active
    token = sign_jwt(
        status_list_claims(credential, now, now + STATUS_LIST_VALIDITY),
        key,
        kid=f"{node.did}#{key.key_id}",
        header_extras={"typ": "vc+jwt"},
    )
    return Response(token, media_type="application/vc+jwt", headers={"Cache-Control": "max-age=60"})
