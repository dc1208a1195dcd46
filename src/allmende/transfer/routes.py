"""DSP 2025-1 transfer process endpoints: provider paths and consumer callbacks."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from allmende.network.presentation import verify_presented
from allmende.node import Node
from allmende.protocol.endpoint import authenticate, in_read, in_transaction, node_of, receive
from allmende.transfer.process import ERROR, problem
from allmende.transfer.side import TransferSide

provider_router = APIRouter(prefix="/dsp/transfers", tags=["DSP transfer (provider)"])
consumer_router = APIRouter(prefix="/dsp/callback/transfers", tags=["DSP transfer (consumer callback)"])


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
    communities = (await verify_presented(node, claims)).communities
    body, created = await in_transaction(
        node,
        lambda s: node.provider_transfers.receive_request(
            s, claims.issuer, message.body, message.digest, communities
        ),
    )
    return JSONResponse(body, status_code=201 if created else 200)


def _state_route(router: APIRouter, side_of: Callable[[Node], TransferSide], whose: str) -> None:
    async def state(pid: str, request: Request) -> JSONResponse:
        node = node_of(request)
        claims = await authenticate(request, ERROR)
        return JSONResponse(await in_read(node, lambda s: side_of(node).state(s, claims.issuer, pid)))

    router.add_api_route(
        "/{pid}", state, methods=["GET"], summary=f"The transfer process as the {whose} sees it"
    )


def _message_route(
    router: APIRouter, leaf: str, message_type: str, side_of: Callable[[Node], TransferSide], handler: str
) -> None:
    """``POST /{pid}/{leaf}``: authenticate, validate ``message_type``, hand it to the side's ``handler``."""
    provider_path = router is provider_router

    async def endpoint(pid: str, request: Request) -> Response:
        pids = {"provider_pid": pid} if provider_path else {"consumer_pid": pid}
        node, claims, message = await receive(request, message_type, ERROR, **pids)
        act: Callable[..., None] = getattr(side_of(node), handler)
        await in_transaction(node, lambda s: act(s, claims.issuer, pid, message.body, message.digest))
        return Response(status_code=200)

    router.add_api_route(f"/{{pid}}/{leaf}", endpoint, methods=["POST"], summary=message_type)


def _provider(node: Node) -> TransferSide:
    return node.provider_transfers


def _consumer(node: Node) -> TransferSide:
    return node.consumer_transfers


for _router, _side, _whose in (
    (provider_router, _provider, "provider"),
    (consumer_router, _consumer, "consumer"),
):
    _state_route(_router, _side, _whose)
    for _leaf, _type, _handler in (
        ("start", "TransferStartMessage", "receive_start"),
        ("suspension", "TransferSuspensionMessage", "receive_suspension"),
        ("completion", "TransferCompletionMessage", "receive_completion"),
        ("termination", "TransferTerminationMessage", "receive_termination"),
    ):
        _message_route(_router, _leaf, _type, _side, _handler)

__all__ = ["consumer_router", "provider_router"]
