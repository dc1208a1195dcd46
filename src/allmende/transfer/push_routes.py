"""The consumer's receiver for pushed data: ``POST /push/{transfer}`` with the token this node issued.

The body streams to a part file in the data folder (constant memory), is checked against
``Repr-Digest`` when the provider sent one, and only then appears under its final name in
``DATA_DIR/received/``.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from allmende.audit import log as audit
from allmende.clock import utcnow
from allmende.dataplane.digests import MalformedDigest, parse_sha256
from allmende.negotiation.states import Role
from allmende.protocol.endpoint import in_transaction, node_of
from allmende.transfer.access import PUSH_TOKEN_TYPE, AccessDenied, read_access_token
from allmende.transfer.messages import PUSH_FORMAT
from allmende.transfer.records import TransferRecord
from allmende.transfer.states import TransferState

router = APIRouter(tags=["data plane"])
RECEIVED_FOLDER = "received"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@router.post("/push/{pid}", status_code=201)
async def receive_push(pid: str, request: Request) -> JSONResponse:
    """Data pushed by the provider of one of our transfers."""
    node = node_of(request)
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise AccessDenied(401, "a push token is required")
        grant = read_access_token(
            token.strip(), keys=node.keys.all(), own_did=node.did, now=utcnow(), token_type=PUSH_TOKEN_TYPE
        )
        if grant.provider_pid != pid:
            raise AccessDenied(403, "the push token is for another transfer")

        def check(session: Session) -> None:
            record = session.get(TransferRecord, pid)
            if record is None or record.role != Role.CONSUMER.value or record.format != PUSH_FORMAT:
                raise AccessDenied(404, "no such push transfer")
            if record.state != TransferState.STARTED.value:
                raise AccessDenied(409, f"the transfer is {record.state}")

        await in_transaction(node, check)
        expected = parse_sha256(request.headers.get("repr-digest"))
    except AccessDenied as denied:
        return JSONResponse({"error": "push refused", "reason": denied.reason}, status_code=denied.status)
    except MalformedDigest as bad:
        return JSONResponse({"error": "push refused", "reason": str(bad)}, status_code=400)
    folder = node.settings.data_dir / RECEIVED_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    name = _filename(request.headers.get("content-disposition"), pid)
    final = folder / f"{_SAFE_NAME.sub('-', pid)}-{name}"
    part = final.with_name(final.name + ".part")
    digest = hashlib.sha256()
    size = 0
    async with await anyio.open_file(part, "wb") as handle:
        async for chunk in request.stream():
            digest.update(chunk)
            size += len(chunk)
            await handle.write(chunk)
        await handle.flush()
        await anyio.to_thread.run_sync(os.fsync, handle.wrapped.fileno())
    actual = digest.hexdigest()
    if expected is not None and expected != actual:
        part.unlink(missing_ok=True)
        return JSONResponse(
            {"error": "push refused", "reason": "the data does not match its Repr-Digest"}, status_code=400
        )
    os.replace(part, final)

    def record_receipt(session: Session) -> None:
        record = session.get(TransferRecord, pid)
        if record is not None:
            record.received_file = str(final)
            record.bytes_served = size
        audit.append(
            session,
            actor=grant.consumer_did,
            event="data.received",
            subject=pid,
            detail={"bytes": size, "sha256": actual, "file": final.name},
        )

    await in_transaction(node, record_receipt)
    return JSONResponse({"received": size, "sha256": actual}, status_code=201)


def _filename(disposition: str | None, fallback: str) -> str:
    match = re.search(r'filename="([^"]+)"', disposition or "")
    name = Path(match.group(1)).name if match else "data"
    return _SAFE_NAME.sub("-", name)[:100] or _SAFE_NAME.sub("-", fallback)
