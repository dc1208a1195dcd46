"""Shared steps of the node-to-node endpoints: authenticate the caller, read and validate the message.

:func:`caller_claims` and :func:`read_json_object` serve every endpoint another node calls (DSP, compute,
benchmarks, directory, discussions); each passes its own way of refusing (``refuse(status, message)``)
where its answers have their own shape. :func:`receive` adds the DSP message checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from fastapi import Request
from sqlalchemy.orm import Session

from allmende.api.errors import ApiProblem
from allmende.canonical import content_digest
from allmende.identity import TokenError, verify_request_token
from allmende.identity.tokens import TokenClaims
from allmende.node import Node
from allmende.protocol.problems import ProtocolProblem
from allmende.protocol.schemas import SchemaViolation, validate_message

T = TypeVar("T")

Refusal = Callable[[int, str], Exception]
"""Makes the exception that answers a refused call: ``refuse(status, message)``, e.g. :class:`ApiProblem`."""

MAX_MESSAGE_BYTES = 1_000_000


def node_of(request: Request) -> Node:
    """The node serving this request."""
    node: Node = request.app.state.node
    return node


async def caller_claims(request: Request, refuse: Refusal = ApiProblem) -> TokenClaims:
    """The claims of the caller's self-issued ID token (audience: this node's DID).

    A missing, invalid, expired or replayed token raises ``refuse(401, "not authenticated: <reason>")``.
    """
    node = node_of(request)
    try:
        return await verify_request_token(
            request.headers.get("authorization"), own_did=node.did, resolver=node.resolver, replay=node.replay
        )
    except TokenError as exc:
        raise refuse(401, f"not authenticated: {exc.reason}") from None


async def authenticate(request: Request, error_type: str) -> TokenClaims:
    """Verify the caller's self-issued ID token; DSP error ``error_type`` (401) with the reason otherwise."""

    def refuse(status: int, reason: str) -> ProtocolProblem:
        return ProtocolProblem(
            status,
            [reason],
            error_type=error_type,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

    return await caller_claims(request, refuse)


async def read_json_object(
    request: Request,
    max_bytes: int,
    *,
    what: str = "the body",
    not_json: str = "the body is not JSON",
    not_object: str = "the body must be a JSON object",
    check_digest: bool = False,
    refuse: Refusal = ApiProblem,
) -> dict[str, Any]:
    """The body as a JSON object, refused (``refuse(status, message)``) otherwise.

    413 "<what> is larger than <max_bytes> bytes"; with ``check_digest``, 400 when a sent sha-256
    Content-Digest does not match the body; 400 ``not_json`` when it does not parse; 400 ``not_object``
    when it is not an object.
    """
    raw = await request.body()
    if len(raw) > max_bytes:
        raise refuse(413, f"{what} is larger than {max_bytes} bytes")
    if check_digest:
        sent_digest = request.headers.get("content-digest")
        sent = [part.strip() for part in sent_digest.split(",")] if sent_digest else []
        if any(part.startswith("sha-256=") for part in sent) and content_digest(raw) not in sent:
            raise refuse(400, "Content-Digest does not match the body")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise refuse(400, not_json) from None
    if not isinstance(body, dict):
        raise refuse(400, not_object)
    return body


@dataclass(frozen=True)
class IncomingMessage:
    """A validated DSP message with the digest of its exact bytes (kept in the audit log)."""

    body: dict[str, Any]
    digest: str


async def read_message(
    request: Request,
    expected_type: str,
    error_type: str,
    *,
    provider_pid: str | None = None,
    consumer_pid: str | None = None,
) -> IncomingMessage:
    """Parse the body as JSON and validate it against the DSP schema of ``expected_type``; 400 otherwise."""

    def problem(status: int, reasons: list[str], body: Any = None) -> ProtocolProblem:
        echo = body if isinstance(body, dict) else {}
        return ProtocolProblem(
            status,
            reasons,
            error_type=error_type,
            provider_pid=provider_pid or _text(echo.get("providerPid")),
            consumer_pid=consumer_pid or _text(echo.get("consumerPid")),
        )

    raw = await request.body()
    if len(raw) > MAX_MESSAGE_BYTES:
        raise problem(413, [f"message larger than {MAX_MESSAGE_BYTES} bytes"])
    digest = content_digest(raw)
    sent_digest = request.headers.get("content-digest")
    if (
        sent_digest
        and "sha-256=" in sent_digest
        and digest not in [p.strip() for p in sent_digest.split(",")]
    ):
        raise problem(400, ["Content-Digest does not match the body"])
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise problem(400, [f"body is not valid JSON: {exc}"]) from None
    if not isinstance(body, dict):
        raise problem(400, ["body must be a JSON object"])
    try:
        validate_message(body, expected_type)
    except SchemaViolation as exc:
        raise problem(400, [f"invalid {expected_type}", *exc.errors], body) from None
    return IncomingMessage(body, digest)


async def receive(
    request: Request,
    expected_type: str,
    error_type: str,
    *,
    provider_pid: str | None = None,
    consumer_pid: str | None = None,
) -> tuple[Node, TokenClaims, IncomingMessage]:
    """The first steps of every DSP POST: the node, the authenticated caller, the validated message."""
    node = node_of(request)
    claims = await authenticate(request, error_type)
    message = await read_message(
        request, expected_type, error_type, provider_pid=provider_pid, consumer_pid=consumer_pid
    )
    return node, claims, message


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


async def in_transaction(node: Node, work: Callable[[Session], T]) -> T:
    """Run ``work`` in a write transaction on a worker thread (the event loop never blocks on the DB)."""

    def run() -> T:
        with node.db.transaction() as session:
            return work(session)

    return await anyio.to_thread.run_sync(run)


async def in_read(node: Node, work: Callable[[Session], T]) -> T:
    """Run ``work`` in a read-only session on a worker thread."""

    def run() -> T:
        with node.db.read() as session:
            return work(session)

    return await anyio.to_thread.run_sync(run)
