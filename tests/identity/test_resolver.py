"""DID resolution over a mocked network: URLs, caching, limits and failures."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from allmende.identity import DidDocument, DidResolver, NodeKey, ResolutionError, build_did_document
from allmende.identity.key_encoding import raw_public_bytes

pytestmark = pytest.mark.anyio

REMOTE_DID = "did:web:peer.example:nodes:p"
REMOTE_URL = "https://peer.example/nodes/p/did.json"
LOCAL_DID = "did:web:127.0.0.1%3A8302"
LOCAL_URL = "http://127.0.0.1:8302/.well-known/did.json"


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class DocumentServer:
    """A MockTransport handler serving JSON bodies by URL and recording every request."""

    def __init__(self) -> None:
        self.responses: dict[str, httpx.Response] = {}
        self.requests: list[str] = []

    def serve(self, url: str, document: object, status: int = 200) -> None:
        self.responses[url] = httpx.Response(status, content=json.dumps(document).encode())

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        await anyio.sleep(0.01)
        response = self.responses.get(str(request.url))
        if response is None:
            return httpx.Response(404)
        return httpx.Response(response.status_code, headers=response.headers, content=response.content)


def _key(key_id: str = "key-1") -> NodeKey:
    return NodeKey(key_id, Ed25519PrivateKey.generate())


def _document(did: str, *keys: NodeKey) -> dict[str, Any]:
    return build_did_document(did, list(keys), "https://peer.example/dsp")


@pytest.fixture
def server() -> DocumentServer:
    return DocumentServer()


@pytest.fixture
def clock() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
async def client(server: DocumentServer) -> Any:
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as client:
        yield client


async def test_resolves_over_https_and_caches(
    server: DocumentServer, client: httpx.AsyncClient, clock: FakeMonotonic
) -> None:
    key = _key()
    server.serve(REMOTE_URL, _document(REMOTE_DID, key))
    resolver = DidResolver(client, cache_ttl_seconds=300, clock=clock)
    first = await resolver.resolve(REMOTE_DID)
    second = await resolver.resolve(REMOTE_DID)
    assert first is second and first.id == REMOTE_DID
    assert server.requests == [REMOTE_URL]
    clock.now += 299
    await resolver.resolve(REMOTE_DID)
    assert len(server.requests) == 1
    clock.now += 1
    await resolver.resolve(REMOTE_DID)
    assert server.requests == [REMOTE_URL, REMOTE_URL]
    resolver.invalidate(REMOTE_DID)
    await resolver.resolve(REMOTE_DID)
    assert len(server.requests) == 3


async def test_loopback_uses_http_and_can_be_forbidden(
    server: DocumentServer, client: httpx.AsyncClient
) -> None:
    server.serve(LOCAL_URL, _document(LOCAL_DID, _key()))
    assert (await DidResolver(client).resolve(LOCAL_DID)).id == LOCAL_DID
    assert server.requests == [LOCAL_URL]
    with pytest.raises(ResolutionError, match="loopback hosts are not allowed"):
        await DidResolver(client, allow_loopback=False).resolve(LOCAL_DID)
    assert len(server.requests) == 1


async def test_concurrent_resolves_share_one_fetch(server: DocumentServer, client: httpx.AsyncClient) -> None:
    server.serve(REMOTE_URL, _document(REMOTE_DID, _key()))
    resolver = DidResolver(client)
    results: list[DidDocument] = []

    async def resolve() -> None:
        results.append(await resolver.resolve(REMOTE_DID))

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(resolve)
    assert len(results) == 5 and all(result is results[0] for result in results)
    assert server.requests == [REMOTE_URL]


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (httpx.Response(404), "HTTP 404"),
        (httpx.Response(301, headers={"Location": "http://peer.example/did.json"}), "HTTP 301"),
        (httpx.Response(200, content=b"{not json"), "invalid JSON"),
        (
            httpx.Response(200, content=b'{"id": "did:web:impostor.example"}'),
            "has id 'did:web:impostor.example'",
        ),
        (httpx.Response(200, content=b'{"id": 5}'), "invalid DID document"),
        (
            httpx.Response(
                200, content=b'{"id": "' + REMOTE_DID.encode() + b'", "x": "' + b"a" * 2000 + b'"}'
            ),
            "larger",
        ),
    ],
)
async def test_bad_responses_are_rejected_and_not_cached(
    server: DocumentServer, client: httpx.AsyncClient, response: httpx.Response, reason: str
) -> None:
    server.responses[REMOTE_URL] = response
    resolver = DidResolver(client, max_document_bytes=1000)
    with pytest.raises(ResolutionError, match=reason) as caught:
        await resolver.resolve(REMOTE_DID)
    assert caught.value.did == REMOTE_DID
    server.serve(REMOTE_URL, _document(REMOTE_DID, _key()))
    assert (await resolver.resolve(REMOTE_DID)).id == REMOTE_DID


async def test_streamed_body_without_length_is_cut_off() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"id": "' + REMOTE_DID.encode() + b'", "pad": "'
        for _ in range(1000):
            yield b"x" * 1000

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunks())

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(ResolutionError, match="larger than 5000 bytes"):
            await DidResolver(client, max_document_bytes=5000).resolve(REMOTE_DID)


async def test_timeout_and_network_errors() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(timeout)) as client:
        with pytest.raises(ResolutionError, match=f"timeout fetching {REMOTE_URL}"):
            await DidResolver(client).resolve(REMOTE_DID)
    async with httpx.AsyncClient(transport=httpx.MockTransport(refused)) as client:
        with pytest.raises(ResolutionError, match="network error"):
            await DidResolver(client).resolve(REMOTE_DID)


async def test_rejects_non_did_web(client: httpx.AsyncClient, server: DocumentServer) -> None:
    with pytest.raises(ResolutionError, match="not a did:web DID"):
        await DidResolver(client).resolve("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
    with pytest.raises(ResolutionError, match="not a DID URL"):
        await DidResolver(client).public_key("did:web:peer.example")
    assert server.requests == []


async def test_public_key_refetches_once_after_rotation(
    server: DocumentServer, client: httpx.AsyncClient, clock: FakeMonotonic
) -> None:
    old, new = _key("key-1"), _key("key-2")
    server.serve(REMOTE_URL, _document(REMOTE_DID, old))
    resolver = DidResolver(client, clock=clock, min_refetch_interval_seconds=10)
    found = await resolver.public_key(f"{REMOTE_DID}#key-1")
    assert raw_public_bytes(found) == raw_public_bytes(old.public_key)
    server.serve(REMOTE_URL, _document(REMOTE_DID, old, new))
    with pytest.raises(ResolutionError, match="unknown kid"):
        await resolver.public_key(f"{REMOTE_DID}#key-2")  # cached copy is too fresh to refetch
    assert len(server.requests) == 1
    clock.now += 10
    found = await resolver.public_key(f"{REMOTE_DID}#key-2")
    assert raw_public_bytes(found) == raw_public_bytes(new.public_key)
    assert len(server.requests) == 2
    clock.now += 10
    with pytest.raises(ResolutionError, match=f"unknown kid {REMOTE_DID}#key-9"):
        await resolver.public_key(f"{REMOTE_DID}#key-9")
    assert len(server.requests) == 3


async def test_unsupported_key_type_is_a_resolution_error(
    server: DocumentServer, client: httpx.AsyncClient
) -> None:
    method = {"id": "#k", "type": "RsaVerificationKey2018", "controller": REMOTE_DID}
    server.serve(REMOTE_URL, {"id": REMOTE_DID, "verificationMethod": [method]})
    with pytest.raises(ResolutionError, match="unsupported type 'RsaVerificationKey2018'"):
        await DidResolver(client).public_key(f"{REMOTE_DID}#k")


async def test_pinned_participants_bypass_the_network(
    server: DocumentServer, client: httpx.AsyncClient
) -> None:
    document_key, bare_key = _key(), _key()
    pinned_document = DidDocument.parse(_document(REMOTE_DID, document_key))
    resolver = DidResolver(client, pinned={REMOTE_DID: pinned_document, LOCAL_DID: bare_key.public_key})
    assert await resolver.resolve(REMOTE_DID) is pinned_document
    found = await resolver.public_key(f"{REMOTE_DID}#key-1")
    assert raw_public_bytes(found) == raw_public_bytes(document_key.public_key)
    pinned_key = await resolver.public_key(f"{LOCAL_DID}#any-fragment")
    assert raw_public_bytes(pinned_key) == raw_public_bytes(bare_key.public_key)
    assert (await resolver.resolve(LOCAL_DID)).id == LOCAL_DID
    with pytest.raises(ResolutionError, match="unknown kid"):
        await resolver.public_key(f"{REMOTE_DID}#key-2")
    assert server.requests == []


async def test_pinned_document_must_match_its_did(client: httpx.AsyncClient) -> None:
    from allmende.identity import DidError

    document = DidDocument.parse(_document(REMOTE_DID, _key()))
    with pytest.raises(DidError, match="has id"):
        DidResolver(client, pinned={LOCAL_DID: document})
