"""End to end: a caller node issues a token, the callee authenticates it against the caller's served DID
document (a small Starlette app reached through httpx.ASGITransport)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from allmende.clock import utcnow
from allmende.identity import (
    DidResolver,
    InMemoryReplayGuard,
    KeyStore,
    TokenError,
    build_did_document,
    did_from_url,
    issue_token,
    verify_request_token,
)

pytestmark = pytest.mark.anyio

CALLER_URL = "http://127.0.0.1:8301"
CALLER_DID = did_from_url(CALLER_URL)
OWN_DID = "did:web:callee.example"


class CallerNode:
    """The caller's key store and a Starlette app serving its DID document, counting requests."""

    def __init__(self, folder: Path) -> None:
        self.keys = KeyStore.create(folder)
        self.requests = 0
        self.app = Starlette(routes=[Route("/.well-known/did.json", self._did_document)])

    async def _did_document(self, request: Request) -> JSONResponse:
        self.requests += 1
        return JSONResponse(build_did_document(CALLER_DID, self.keys.all(), f"{CALLER_URL}/dsp"))

    def bearer(self, audience: str = OWN_DID, **options: Any) -> str:
        return "Bearer " + issue_token(self.keys.active, CALLER_DID, audience, **options)


@pytest.fixture
def caller(tmp_path: Path) -> CallerNode:
    return CallerNode(tmp_path / "caller-keys")


@pytest.fixture
async def resolver(caller: CallerNode) -> Any:
    transport = httpx.ASGITransport(app=caller.app)
    async with httpx.AsyncClient(transport=transport) as client:
        yield DidResolver(client, min_refetch_interval_seconds=0)


async def test_valid_request_is_authenticated_once(caller: CallerNode, resolver: DidResolver) -> None:
    replay = InMemoryReplayGuard()
    header = caller.bearer()
    claims = await verify_request_token(header, own_did=OWN_DID, resolver=resolver, replay=replay)
    assert claims.issuer == CALLER_DID and claims.kid == f"{CALLER_DID}#key-1"
    with pytest.raises(TokenError, match=r"token already used \(jti replay\)"):
        await verify_request_token(header, own_did=OWN_DID, resolver=resolver, replay=replay)
    await verify_request_token(caller.bearer(), own_did=OWN_DID, resolver=resolver, replay=replay)
    assert caller.requests == 1


async def test_tokens_from_a_rotated_key_verify(caller: CallerNode, resolver: DidResolver) -> None:
    replay = InMemoryReplayGuard()
    old_token = caller.bearer()
    await verify_request_token(caller.bearer(), own_did=OWN_DID, resolver=resolver, replay=replay)
    caller.keys.rotate()
    claims = await verify_request_token(caller.bearer(), own_did=OWN_DID, resolver=resolver, replay=replay)
    assert claims.kid == f"{CALLER_DID}#key-2"
    assert (await verify_request_token(old_token, own_did=OWN_DID, resolver=resolver, replay=replay)).jti
    assert caller.requests == 2


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing Authorization header"),
        ("", "missing Authorization header"),
        ("Basic dXNlcjpwYXNz", "not of the form 'Bearer <token>'"),
        ("Bearer ", "not of the form"),
        ("Bearer not-a-jwt", "malformed token"),
    ],
)
async def test_bad_headers(resolver: DidResolver, header: str | None, reason: str) -> None:
    with pytest.raises(TokenError, match=reason):
        await verify_request_token(header, own_did=OWN_DID, resolver=resolver, replay=InMemoryReplayGuard())


async def test_cheap_checks_run_before_any_fetch(caller: CallerNode, resolver: DidResolver) -> None:
    expired = caller.bearer(now=utcnow() - timedelta(hours=1))
    for header, reason in [(expired, "token expired"), (caller.bearer("did:web:other.example"), "audience")]:
        with pytest.raises(TokenError, match=reason):
            await verify_request_token(
                header, own_did=OWN_DID, resolver=resolver, replay=InMemoryReplayGuard()
            )
    assert caller.requests == 0


async def test_unresolvable_caller_is_a_token_error(caller: CallerNode, tmp_path: Path) -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(unreachable)) as client:
        with pytest.raises(TokenError, match=r"caller key not available: cannot resolve .* network error"):
            await verify_request_token(
                caller.bearer(), own_did=OWN_DID, resolver=DidResolver(client), replay=InMemoryReplayGuard()
            )


async def test_signature_by_an_unpublished_key_fails(
    caller: CallerNode, resolver: DidResolver, tmp_path: Path
) -> None:
    impostor = KeyStore.create(tmp_path / "impostor")
    header = "Bearer " + issue_token(impostor.active, CALLER_DID, OWN_DID)
    with pytest.raises(TokenError, match="signature invalid"):
        await verify_request_token(header, own_did=OWN_DID, resolver=resolver, replay=InMemoryReplayGuard())
