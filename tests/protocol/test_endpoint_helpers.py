"""The shared steps of node-to-node endpoints: the caller's token and the JSON object body, each refused
in the shape its endpoint answers with."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi import Request

from allmende.api.errors import ApiProblem
from allmende.canonical import content_digest
from allmende.knowledge.discussion_rules import DiscussionError
from allmende.protocol.endpoint import authenticate, caller_claims, read_json_object
from allmende.protocol.problems import ProtocolProblem

pytestmark = pytest.mark.anyio


def request_with(body: bytes = b"", headers: dict[str, str] | None = None) -> Request:
    """A POST whose node refuses every token before any key is looked up (no resolver needed)."""
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    node = SimpleNamespace(did="did:web:node.example", resolver=None, replay=None)
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()],
        "app": SimpleNamespace(state=SimpleNamespace(node=node)),
    }
    return Request(scope, receive)


async def test_a_json_object_is_read() -> None:
    assert await read_json_object(request_with(b'{"a": [1]}'), 100) == {"a": [1]}


async def test_a_body_over_the_limit_is_413_with_the_endpoints_name_for_it() -> None:
    with pytest.raises(ApiProblem) as caught:
        await read_json_object(request_with(b'{"a": "' + b"x" * 20 + b'"}'), 10, what="the application")
    assert (caught.value.status, caught.value.message) == (413, "the application is larger than 10 bytes")


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b""])
async def test_a_body_that_is_not_json_is_400(body: bytes) -> None:
    with pytest.raises(ApiProblem) as caught:
        await read_json_object(request_with(body), 100, not_json="the request is not JSON")
    assert (caught.value.status, caught.value.message) == (400, "the request is not JSON")


async def test_json_that_is_not_an_object_is_400() -> None:
    with pytest.raises(ApiProblem) as caught:
        await read_json_object(request_with(b"[1, 2]"), 100)
    assert (caught.value.status, caught.value.message) == (400, "the body must be a JSON object")


async def test_the_content_digest_is_checked_only_when_asked_and_only_for_sha_256() -> None:
    body = b'{"a": 1}'
    wrong = {"content-digest": "sha-256=:AAAA:"}
    assert await read_json_object(request_with(body, wrong), 100) == {"a": 1}
    with pytest.raises(DiscussionError) as caught:
        await read_json_object(request_with(body, wrong), 100, check_digest=True, refuse=DiscussionError)
    assert (caught.value.status, caught.value.reason) == (400, "Content-Digest does not match the body")
    right = {"content-digest": f"sha-512=:BBBB:, {content_digest(body)}"}
    assert await read_json_object(request_with(body, right), 100, check_digest=True) == {"a": 1}
    other = {"content-digest": "sha-512=:BBBB:"}
    assert await read_json_object(request_with(body, other), 100, check_digest=True) == {"a": 1}


async def test_a_caller_without_a_token_is_401_in_each_endpoints_shape() -> None:
    with pytest.raises(ApiProblem) as api:
        await caller_claims(request_with())
    assert (api.value.status, api.value.message) == (401, "not authenticated: missing Authorization header")
    with pytest.raises(DiscussionError) as discussion:
        await caller_claims(request_with(headers={"authorization": "Basic x"}), DiscussionError)
    assert discussion.value.status == 401
    assert discussion.value.reason.startswith("not authenticated: Authorization header is not of the form")
    with pytest.raises(ProtocolProblem) as dsp:
        await authenticate(request_with(), "CatalogError")
    assert (dsp.value.status, dsp.value.error_type) == (401, "CatalogError")
    assert dsp.value.reasons == ["not authenticated: missing Authorization header"]
    assert dsp.value.headers == {"WWW-Authenticate": 'Bearer error="invalid_token"'}
