"""The HTTP pull data plane: ``GET /data/{transfer}`` with a bearer access token, streaming with Range."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.responses import Response

from allmende.audit import log as audit
from allmende.clock import utcnow
from allmende.dataplane.files import AssetUnavailable, file_response
from allmende.protocol.endpoint import in_transaction, node_of
from allmende.transfer.access import AccessDenied, AccessGrant, read_access_token
from allmende.transfer.provider import Authorized

router = APIRouter(tags=["data plane"])

# Measured (bench.transfer): 1 MiB chunks reach ~0.57x nginx's throughput, 4 MiB ~0.83x at less CPU;
# memory stays bounded (one chunk in flight per connection).
DATA_CHUNK_BYTES = 4 << 20


@router.get("/data/{pid}")
async def pull(pid: str, request: Request) -> Response:
    """The data of a started transfer; every access and every refusal is in the audit log."""
    node = node_of(request)
    now = utcnow()
    try:
        grant = _grant(request, pid, node.keys.all(), node.did)

        def check(session: Session) -> Authorized:
            authorized = node.provider_transfers.authorize(session, grant, now)
            audit.append(
                session,
                actor=grant.consumer_did,
                event="data.accessed",
                subject=pid,
                detail={"range": request.headers.get("range"), "agreement": grant.agreement_id},
            )
            return authorized

        asset = (await in_transaction(node, check)).asset
        response = file_response(
            _asset_path(asset.source),
            range_header=request.headers.get("range"),
            if_range=request.headers.get("if-range"),
            media_type=asset.media_type or "application/octet-stream",
            sha256_hex=asset.sha256,
            expected_size=asset.byte_size,
            on_bytes=node.bytes_counter(pid),
            chunk_size=DATA_CHUNK_BYTES,
        )
    except AccessDenied as denied:
        status, reason = denied.status, denied.reason
        await in_transaction(
            node,
            lambda s: audit.append(
                s,
                actor="data plane",
                event="data.refused",
                subject=pid,
                detail={"status": status, "reason": reason},
            ),
        )
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
        return JSONResponse(
            {"error": "access refused", "reason": reason}, status_code=status, headers=headers
        )
    except AssetUnavailable as gone:
        return JSONResponse({"error": "data unavailable", "reason": str(gone)}, status_code=410)
    response.background = BackgroundTask(node.flush_bytes_served, pid)
    return response


def _grant(request: Request, pid: str, keys: Any, own_did: str) -> AccessGrant:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AccessDenied(401, "an access token is required (Authorization: Bearer <token>)")
    grant = read_access_token(token.strip(), keys=keys, own_did=own_did, now=utcnow())
    if grant.provider_pid != pid:
        raise AccessDenied(403, "the access token is for another transfer")
    return grant


def _asset_path(source: dict[str, Any]) -> Path:
    if source.get("kind") != "file":
        raise AssetUnavailable(Path("."), f"assets of kind {source.get('kind')!r} cannot be served yet")
    return Path(str(source["path"]))
