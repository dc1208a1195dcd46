"""Shared steps of every DSP endpoint: authenticate the caller, read and validate the message."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from fastapi import Request
from sqlalchemy.orm import Session

from allmende.canonical import content_digest
from allmende.identity import TokenError, verify_request_token
from allmende.identity.tokens import TokenClaims
from allmende.node import Node
from allmende.protocol.problems import ProtocolProblem
from allmende.protocol.schemas import SchemaViolation, validate_message

T = TypeVar("T")

MAX_MESSAGE_BYTES = 1_000_000


def node_of(request: Request) -> Node:
    """The node serving this request."""
    node: Node = request.app.state.node
    return node


async def authenticate(request: Request, error_type: str) -> TokenClaims:
    """Verify the caller's self-issued ID token; 401 with the reason otherwise."""
    node = node_of(request)
    try:
        return await verify_request_token(
            request.headers.get("authorization"), own_did=node.did, resolver=node.resolver, replay=node.replay
        )
    except TokenError as exc:
        raise ProtocolProblem(
            401,
            [f"not authenticated: {exc.reason}"],
            error_type=error_type,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None


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
