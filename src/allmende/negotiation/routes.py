"""DSP 2025-1 contract negotiation endpoints (HTTPS binding): provider paths and consumer callbacks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from allmende.identity import TokenError, decode_jwt
from allmende.identity.jws import verify_signature
from allmende.identity.tokens import TokenClaims
from allmende.negotiation.provider import Signature
from allmende.network.presentation import verify_presented
from allmende.node import Node
from allmende.protocol.endpoint import authenticate, in_read, in_transaction, node_of, receive
from allmende.protocol.problems import ProtocolProblem

ERROR = "ContractNegotiationError"

provider_router = APIRouter(prefix="/dsp/negotiations", tags=["DSP negotiation (provider)"])
consumer_router = APIRouter(prefix="/dsp/callback/negotiations", tags=["DSP negotiation (consumer callback)"])


async def agreement_signature(
    node: Node, claims: TokenClaims, *, provider_pid: str | None = None, consumer_pid: str | None = None
) -> Signature | None:
    """The counterparty's agreement signature carried in its token (``agreement_signature``), verified."""
    token = claims.claims.get("agreement_signature")
    if token is None:
        return None
    try:
        decoded = decode_jwt(str(token))
        kid = str(decoded.header.get("kid", ""))
        if kid.split("#", 1)[0] != claims.issuer or decoded.claims.get("iss") != claims.issuer:
            raise TokenError("agreement signature is not by the caller")
        verify_signature(decoded, await node.resolver.public_key(kid))
    except Exception as exc:  # any defect of the signature is the caller's error
        reason = getattr(exc, "reason", None) or str(exc)
        raise ProtocolProblem(
            400,
            [f"invalid agreement signature: {reason}"],
            provider_pid=provider_pid,
            consumer_pid=consumer_pid,
        ) from None
    return Signature(str(token), str(decoded.claims.get("sub")), str(decoded.claims.get("agreement_digest")))


def _ok() -> Response:
    return Response(status_code=200)


# --- provider ---------------------------------------------------------------------------------------


@provider_router.post("/request", status_code=201)
async def initial_request(request: Request) -> JSONResponse:
    """ContractRequestMessage starting a negotiation."""
    node, claims, message = await receive(request, "ContractRequestMessage", ERROR)
    if "providerPid" in message.body:
        raise ProtocolProblem(
            400,
            ["an initial ContractRequestMessage must not carry a providerPid"],
            consumer_pid=str(message.body.get("consumerPid")),
        )
    presented = await verify_presented(node, claims)
    body, created = await in_transaction(
        node,
        lambda s: node.provider.receive_initial_request(
            s, claims.issuer, message.body, message.digest, presented
        ),
    )
    return JSONResponse(body, status_code=201 if created else 200)


@provider_router.get("/{provider_pid}")
async def provider_state(provider_pid: str, request: Request) -> JSONResponse:
    """The negotiation as the provider sees it."""
    node = node_of(request)
    claims = await authenticate(request, ERROR)
    return JSONResponse(await in_read(node, lambda s: node.provider.state(s, claims.issuer, provider_pid)))


@provider_router.post("/{provider_pid}/request")
async def counter_request(provider_pid: str, request: Request) -> Response:
    """ContractRequestMessage on an existing negotiation (a counter-offer)."""
    node, claims, message = await receive(request, "ContractRequestMessage", ERROR, provider_pid=provider_pid)
    presented = await verify_presented(node, claims)
    await in_transaction(
        node,
        lambda s: node.provider.receive_request(
            s, claims.issuer, provider_pid, message.body, message.digest, presented
        ),
    )
    return _ok()


@provider_router.post("/{provider_pid}/events")
async def consumer_event(provider_pid: str, request: Request) -> Response:
    """ContractNegotiationEventMessage (ACCEPTED)."""
    node, claims, message = await receive(
        request, "ContractNegotiationEventMessage", ERROR, provider_pid=provider_pid
    )
    await in_transaction(
        node,
        lambda s: node.provider.receive_event(s, claims.issuer, provider_pid, message.body, message.digest),
    )
    return _ok()


@provider_router.post("/{provider_pid}/agreement/verification")
async def verification(provider_pid: str, request: Request) -> Response:
    """ContractAgreementVerificationMessage."""
    node, claims, message = await receive(
        request, "ContractAgreementVerificationMessage", ERROR, provider_pid=provider_pid
    )
    signature = await agreement_signature(node, claims, provider_pid=provider_pid)
    await in_transaction(
        node,
        lambda s: node.provider.receive_verification(
            s, claims.issuer, provider_pid, message.body, message.digest, signature
        ),
    )
    return _ok()


@provider_router.post("/{provider_pid}/termination")
async def consumer_termination(provider_pid: str, request: Request) -> Response:
    """ContractNegotiationTerminationMessage from the consumer."""
    node, claims, message = await receive(
        request, "ContractNegotiationTerminationMessage", ERROR, provider_pid=provider_pid
    )
    await in_transaction(
        node,
        lambda s: node.provider.receive_termination(
            s, claims.issuer, provider_pid, message.body, message.digest
        ),
    )
    return _ok()


# --- consumer callbacks ------------------------------------------------------------------------------


@consumer_router.post("/offers", status_code=201)
async def initial_offer(request: Request) -> JSONResponse:
    """ContractOfferMessage starting a provider-initiated negotiation."""
    node, claims, message = await receive(request, "ContractOfferMessage", ERROR)
    if "consumerPid" in message.body:
        raise ProtocolProblem(
            400,
            ["an initial ContractOfferMessage must not carry a consumerPid"],
            provider_pid=str(message.body.get("providerPid")),
        )
    body, created = await in_transaction(
        node, lambda s: node.consumer.receive_initial_offer(s, claims.issuer, message.body, message.digest)
    )
    return JSONResponse(body, status_code=201 if created else 200)


@consumer_router.get("/{consumer_pid}")
async def consumer_state(consumer_pid: str, request: Request) -> JSONResponse:
    """The negotiation as the consumer sees it."""
    node = node_of(request)
    claims = await authenticate(request, ERROR)
    return JSONResponse(await in_read(node, lambda s: node.consumer.state(s, claims.issuer, consumer_pid)))


@consumer_router.post("/{consumer_pid}/offers")
async def provider_offer(consumer_pid: str, request: Request) -> Response:
    """ContractOfferMessage (the provider's counter-offer)."""
    node, claims, message = await receive(request, "ContractOfferMessage", ERROR, consumer_pid=consumer_pid)
    await in_transaction(
        node,
        lambda s: node.consumer.receive_offer(s, claims.issuer, consumer_pid, message.body, message.digest),
    )
    return _ok()


@consumer_router.post("/{consumer_pid}/agreement")
async def agreement(consumer_pid: str, request: Request) -> Response:
    """ContractAgreementMessage."""
    node, claims, message = await receive(
        request, "ContractAgreementMessage", ERROR, consumer_pid=consumer_pid
    )
    signature = await agreement_signature(node, claims, consumer_pid=consumer_pid)
    await in_transaction(
        node,
        lambda s: node.consumer.receive_agreement(
            s, claims.issuer, consumer_pid, message.body, message.digest, signature
        ),
    )
    return _ok()


@consumer_router.post("/{consumer_pid}/events")
async def provider_event(consumer_pid: str, request: Request) -> Response:
    """ContractNegotiationEventMessage (FINALIZED)."""
    node, claims, message = await receive(
        request, "ContractNegotiationEventMessage", ERROR, consumer_pid=consumer_pid
    )
    await in_transaction(
        node,
        lambda s: node.consumer.receive_event(s, claims.issuer, consumer_pid, message.body, message.digest),
    )
    return _ok()


@consumer_router.post("/{consumer_pid}/termination")
async def provider_termination(consumer_pid: str, request: Request) -> Response:
    """ContractNegotiationTerminationMessage from the provider."""
    node, claims, message = await receive(
        request, "ContractNegotiationTerminationMessage", ERROR, consumer_pid=consumer_pid
    )
    await in_transaction(
        node,
        lambda s: node.consumer.receive_termination(
            s, claims.issuer, consumer_pid, message.body, message.digest
        ),
    )
    return _ok()
