"""The hosting node's discussion endpoints for other nodes, under ``/discussions/protocol``.

Every call needs the calling node's self-issued ID token (audience: this node's DID), reading included:
a topic is open to every authenticated node, and its posts carry their authors' signatures so the
reader can check them. Refusals answer ``{"error": reason, "details": []}``; a rate-limited post 429
with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from allmende.clock import utcnow
from allmende.identity.errors import ResolutionError
from allmende.knowledge import discussion_service as service
from allmende.knowledge.discussion_posting import PROTOCOL_PATH
from allmende.knowledge.discussion_rules import DiscussionError
from allmende.knowledge.discussion_signing import MAX_SIGNED_POST, read_post, verify_post
from allmende.protocol.endpoint import caller_claims, in_read, in_transaction, node_of, read_json_object

router = APIRouter(prefix=PROTOCOL_PATH, tags=["discussions (between nodes)"])
MAX_BODY_BYTES = MAX_SIGNED_POST + 1000


def problem(error: DiscussionError) -> JSONResponse:
    """A refusal as the answer to a node or an API client."""
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
    return JSONResponse({"error": error.reason, "details": []}, status_code=error.status, headers=headers)


@router.get("/topics")
async def topics(request: Request) -> JSONResponse:
    """The topics this node hosts, most recently active first."""
    node = node_of(request)
    try:
        await caller_claims(request, DiscussionError)
    except DiscussionError as error:
        return problem(error)
    found = await in_read(node, service.list_topics)
    return JSONResponse(
        {"node": node.did, "name": node.name, "topics": [service.topic_view(t, node.base_url) for t in found]}
    )


@router.get("/topics/{topic_id}")
async def topic(topic_id: str, request: Request, page: int = 1) -> JSONResponse:
    """A page of the topic's posts, each with its author's signature (hidden ones without text)."""
    node = node_of(request)
    try:
        await caller_claims(request, DiscussionError)
        found = await in_read(node, lambda s: service.thread(s, topic_id, page))
    except DiscussionError as error:
        return problem(error)
    return JSONResponse(service.thread_view(found, node.base_url))


@router.post("/topics/{topic_id}/posts")
async def post(topic_id: str, request: Request) -> JSONResponse:
    """Receive a post signed by the calling node: 201 stored, 200 already stored, or the refusal."""
    node = node_of(request)
    try:
        claims = await caller_claims(request, DiscussionError)
        body = await _json_body(request)
        read = read_post(body.get("post"))
        if read.post.author_did != claims.issuer:
            raise DiscussionError(403, f"the post is signed by {read.post.author_did}, not by the caller")
        if read.post.topic_id != topic_id:
            raise DiscussionError(400, f"the post is for topic {read.post.topic_id}, not {topic_id}")
        try:
            key = await node.resolver.public_key(read.kid)
        except ResolutionError as error:
            raise DiscussionError(400, f"the author's key is not available: {error.reason}") from None
        signed = verify_post(read, key)
        limits = service.limits_of(node.settings)
        record, new = await in_transaction(
            node,
            lambda s: service.store_post(
                s, signed, read.token, host_did=node.did, limits=limits, now=utcnow()
            ),
        )
    except DiscussionError as error:
        return problem(error)
    return JSONResponse(service.post_view(record, {}), status_code=201 if new else 200)


@router.post("/reports")
async def report(request: Request) -> JSONResponse:
    """A participant node reports a post to this node's owner (``{"post": id, "reason": text}``)."""
    node = node_of(request)
    try:
        claims = await caller_claims(request, DiscussionError)
        body = await _json_body(request)
        post_id = body.get("post")
        if not isinstance(post_id, str):
            raise DiscussionError(400, "name the post to report ('post')")
        reason = body.get("reason")
        found = await in_transaction(
            node,
            lambda s: service.report_post(
                s, post_id, reporter_did=claims.issuer, reason=reason, now=utcnow()
            ),
        )
    except DiscussionError as error:
        return problem(error)
    return JSONResponse({"id": found.id, "state": found.state, "post": found.post_id}, status_code=201)


async def _json_body(request: Request) -> dict[str, Any]:
    return await read_json_object(
        request, MAX_BODY_BYTES, what="the request", check_digest=True, refuse=DiscussionError
    )
