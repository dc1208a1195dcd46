"""DSP 2025-1 transfer process endpoints: provider paths and consumer callbacks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from allmende.protocol.endpoint import authenticate, in_read, in_transaction, node_of, receive
from allmende.transfer.process import ERROR, problem

provider_router = APIRouter(prefix="/dsp/transfers", tags=["DSP transfer (provider)"])
consumer_router = APIRouter(prefix="/dsp/callback/transfers", tags=["DSP transfer (consumer callback)"])


def _ok() -> Response:
    return Response(status_code=200)


@provider_router.post("/request", status_code=201)
async def transfer_request(request: Request) -> JSONResponse:
    """TransferRequestMessage: answered 201 TransferProcess; the provider starts the pull right away."""
    node, claims, message = await receive(request, "TransferRequestMessage", ERROR)
    if "providerPid" in message.body:
        raise problem(
            400,
            "a TransferRequestMessage must not carry a providerPid",
            consumer_pid=str(message.body.get("consumerPid")),
        )
    body, created = await in_transaction(
        node,
        lambda s: node.provider_transfers.receive_request(s, claims.issuer, message.body, message.digest),
    )
    return JSONResponse(body, status_code=201 if created else 200)


@provider_router.get("/{pid}")
async def provider_state(pid: str, request: Request) -> JSONResponse:
    """The transfer process as the provider sees it."""
    node = node_of(request)
    claims = await authenticate(request, ERROR)
    return JSONResponse(await in_read(node, lambda s: node.provider_transfers.state(s, claims.issuer, pid)))


@provider_router.post("/{pid}/start")
async def consumer_start(pid: str, request: Request) -> Response:
    """TransferStartMessage from the consumer (resume after suspension)."""
    node, claims, message = await receive(request, "TransferStartMessage", ERROR, provider_pid=pid)
    await in_transaction(
        node,
        lambda s: node.provider_transfers.receive_start(s, claims.issuer, pid, message.body, message.digest),
    )
    return _ok()


@provider_router.post("/{pid}/suspension")
async def consumer_suspension(pid: str, request: Request) -> Response:
    node, claims, message = await receive(request, "TransferSuspensionMessage", ERROR, provider_pid=pid)
    await in_transaction(
        node,
        lambda s: node.provider_transfers.receive_suspension(
            s, claims.issuer, pid, message.body, message.digest
        ),
    )
    return _ok()


@provider_router.post("/{pid}/completion")
async def consumer_completion(pid: str, request: Request) -> Response:
    node, claims, message = await receive(request, "TransferCompletionMessage", ERROR, provider_pid=pid)
    await in_transaction(
        node,
        lambda s: node.provider_transfers.receive_completion(
            s, claims.issuer, pid, message.body, message.digest
        ),
    )
    return _ok()


@provider_router.post("/{pid}/termination")
async def consumer_termination(pid: str, request: Request) -> Response:
    node, claims, message = await receive(request, "TransferTerminationMessage", ERROR, provider_pid=pid)
    await in_transaction(
        node,
        lambda s: node.provider_transfers.receive_termination(
            s, claims.issuer, pid, message.body, message.digest
        ),
    )
    return _ok()


@consumer_router.get("/{pid}")
async def consumer_state(pid: str, request: Request) -> JSONResponse:
    """The transfer process as the consumer sees it."""
    node = node_of(request)
    claims = await authenticate(request, ERROR)
    return JSONResponse(await in_read(node, lambda s: node.consumer_transfers.state(s, claims.issuer, pid)))


@consumer_router.post("/{pid}/start")
async def provider_start(pid: str, request: Request) -> Response:
    """TransferStartMessage from the provider, with the data address."""
    node, claims, message = await receive(request, "TransferStartMessage", ERROR, consumer_pid=pid)
    await in_transaction(
        node,
        lambda s: node.consumer_transfers.receive_start(s, claims.issuer, pid, message.body, message.digest),
    )
    return _ok()


@consumer_router.post("/{pid}/suspension")
async def provider_suspension(pid: str, request: Request) -> Response:
    node, claims, message = await receive(request, "TransferSuspensionMessage", ERROR, consumer_pid=pid)
    await in_transaction(
        node,
        lambda s: node.consumer_transfers.receive_suspension(
            s, claims.issuer, pid, message.body, message.digest
        ),
    )
    return _ok()


@consumer_router.post("/{pid}/completion")
async def provider_completion(pid: str, request: Request) -> Response:
    node, claims, message = await receive(request, "TransferCompletionMessage", ERROR, consumer_pid=pid)
    await in_transaction(
        node,
        lambda s: node.consumer_transfers.receive_completion(
            s, claims.issuer, pid, message.body, message.digest
        ),
    )
    return _ok()


@consumer_router.post("/{pid}/termination")
async def provider_termination(pid: str, request: Request) -> Response:
    node, claims, message = await receive(request, "TransferTerminationMessage", ERROR, consumer_pid=pid)
    await in_transaction(
        node,
        lambda s: node.consumer_transfers.receive_termination(
            s, claims.issuer, pid, message.body, message.digest
        ),
    )
    return _ok()
