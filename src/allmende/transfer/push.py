"""HTTP push: the provider streams the data to the endpoint the consumer named, with its token.

A push runs once the TransferStartMessage is delivered (and again after a resume or a restart). The
usage policy is checked right before; the body streams in constant memory with ``Repr-Digest`` when
the digest is known. Success completes the transfer on both sides; a refusal or repeated failure
terminates it with the reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, TypeVar

import anyio
import httpx
from sqlalchemy.orm import Session

from allmende.clock import utcnow
from allmende.dataplane.digests import sha256_field
from allmende.dataplane.disposition import attachment
from allmende.negotiation.states import Role
from allmende.sources import SourceError, open_stream
from allmende.transfer import messages
from allmende.transfer.access import AccessDenied
from allmende.transfer.datasets import ServedData
from allmende.transfer.process import end, move, send
from allmende.transfer.records import TransferRecord
from allmende.transfer.states import TransferMessage, TransferState

if TYPE_CHECKING:
    from allmende.node import Node

log = logging.getLogger(__name__)
T = TypeVar("T")

ATTEMPTS = 4
FIRST_RETRY_SECONDS = 1.0


class PushFailed(Exception):
    """The data could not be pushed; ``reason`` is what the transfer's termination says."""

    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


async def push(node: Node, transfer_id: str) -> None:
    """Push the data of ``transfer_id``; never raises (the outcome is recorded on the transfer)."""
    delay = FIRST_RETRY_SECONDS
    for attempt in range(1, ATTEMPTS + 1):
        try:
            sent = await _push_once(node, transfer_id)
        except PushFailed as failed:
            if failed.retry and attempt < ATTEMPTS:
                await asyncio.sleep(delay)
                delay *= 2
                continue
            await _settle(node, transfer_id, None, failed.reason)
            return
        if sent is not None:
            await _settle(node, transfer_id, sent, None)
        return


async def _push_once(node: Node, transfer_id: str) -> int | None:
    """Bytes pushed, or None when there is nothing to push (the transfer is not a started push)."""

    def check(session: Session) -> tuple[TransferRecord, ServedData] | None:
        record = session.get(TransferRecord, transfer_id)
        if record is None or record.state != TransferState.STARTED.value or record.data_address is None:
            return None
        try:
            data = node.provider_transfers.check_access(session, record, utcnow()).data
        except AccessDenied as denied:
            raise PushFailed(denied.reason, retry=False) from None
        return record, data

    checked = await anyio.to_thread.run_sync(_in_transaction, node, check)
    if checked is None:
        return None
    record, data = checked
    endpoint, token = messages.read_data_address(record.data_address or {})
    try:
        stream = await open_stream(data.source, node.secrets)
    except SourceError as exc:
        raise PushFailed(f"the data cannot be read: {exc.reason}", retry=False) from None
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        async for chunk in stream.chunks():
            sent += len(chunk)
            yield chunk

    headers = {
        "Content-Type": stream.media_type,
        "Content-Disposition": attachment(stream.filename),
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if data.sha256:
        headers["Repr-Digest"] = sha256_field(data.sha256)
    try:
        response = await node.http.post(
            endpoint, content=body(), headers=headers, timeout=httpx.Timeout(60.0)
        )
    except httpx.HTTPError as exc:
        raise PushFailed(f"the push endpoint is not reachable: {type(exc).__name__}", retry=True) from None
    finally:
        await stream.aclose()
    if response.status_code >= 500:
        raise PushFailed(f"the push endpoint answered {response.status_code}", retry=True)
    if response.status_code >= 300:
        raise PushFailed(
            f"the push endpoint refused the data: HTTP {response.status_code} {response.text[:200]}",
            retry=False,
        )
    return sent


def _in_transaction(node: Node, work: Callable[[Session], T]) -> T:
    with node.db.transaction() as session:
        return work(session)


async def _settle(node: Node, transfer_id: str, sent: int | None, failure: str | None) -> None:
    def record_outcome(session: Session) -> None:
        record = session.get(TransferRecord, transfer_id)
        if record is None or record.state != TransferState.STARTED.value:
            return
        env = node.transfer_env
        if failure is not None:
            end(session, env, record, Role.PROVIDER, f"push failed: {failure}", env.own_did)
            return
        record.bytes_served += sent or 0
        move(
            session,
            record,
            TransferMessage.COMPLETION,
            Role.PROVIDER,
            actor=env.own_did,
            detail={"pushed_bytes": sent},
        )
        send(
            session,
            env,
            record,
            TransferMessage.COMPLETION,
            "completion",
            messages.transfer_completion(provider_pid=record.id, consumer_pid=record.consumer_pid or ""),
        )

    try:
        await anyio.to_thread.run_sync(_in_transaction, node, record_outcome)
    except Exception:  # the transfer stays STARTED; a restart pushes again
        log.exception("recording the outcome of push %s failed", transfer_id)
