"""Reading and reporting on other nodes' topics, as an authenticated node; checking the signatures of
the posts read; waiting briefly for an outgoing post's delivery so a user sees the host's answer."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from allmende.identity.errors import ResolutionError
from allmende.knowledge.discussion_posting import PROTOCOL_PATH, Delivery, TopicAddress, delivery_of
from allmende.knowledge.discussion_rules import MAX_REASON, DiscussionError, clean_id, clean_text
from allmende.knowledge.discussion_signing import read_post, verify_post

if TYPE_CHECKING:
    from allmende.node import Node

VERIFIED = "verified"


async def call_host(
    node: Node,
    method: str,
    url: str,
    host_did: str,
    *,
    body: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> tuple[int, dict[str, Any]]:
    """Call a hosting node's discussion endpoint with this node's ID token; (status, JSON answer).

    Raises DiscussionError 502 when the node is unreachable or answers no JSON object, and passes the
    host's refusals (4xx) on with the host's reason.
    """
    headers = {"Authorization": f"Bearer {node.issue_token(host_did)}"}
    try:
        response = await node.http.request(method, url, json=body, params=params, headers=headers)
    except httpx.HTTPError as error:
        raise DiscussionError(502, f"the node at {url} is unreachable ({type(error).__name__})") from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise DiscussionError(502, f"the node at {url} runs no discussions (HTTP {response.status_code})")
    if response.status_code >= 400:
        said = answer.get("error")
        status = response.status_code if response.status_code in (404, 409, 429) else 502
        retry = response.headers.get("retry-after")
        raise DiscussionError(
            status,
            f"the hosting node refused: {said or f'HTTP {response.status_code}'}",
            retry_after=int(retry) if retry and retry.isdigit() else None,
        )
    return response.status_code, answer


async def fetch_topic(node: Node, address: TopicAddress, page: int = 1) -> dict[str, Any]:
    """A page of a topic on another node, each post with ``check``: ``verified`` or why not."""
    _, answer = await call_host(
        node, "GET", address.protocol_url, address.host_did, params={"page": max(1, page)}
    )
    posts = answer.get("posts")
    if not isinstance(answer.get("topic"), dict) or not isinstance(posts, list):
        raise DiscussionError(502, "the hosting node answered no topic")
    for post in posts:
        if isinstance(post, dict):
            post["check"] = await check_post(node, post, address)
    answer["posts"] = [post for post in posts if isinstance(post, dict)]
    return answer


async def fetch_topics(node: Node, base_url: str, host_did: str) -> dict[str, Any]:
    """The topics another node hosts."""
    _, answer = await call_host(node, "GET", f"{base_url}{PROTOCOL_PATH}/topics", host_did)
    if not isinstance(answer.get("topics"), list):
        raise DiscussionError(502, "the hosting node answered no list of topics")
    return answer


async def check_post(node: Node, post: dict[str, Any], address: TopicAddress) -> str:
    """Verify a post as read from its host: its JWS, signed by its author, says what the host shows."""
    if post.get("hidden"):
        return "hidden"
    try:
        read = read_post(post.get("signature"))
        signed = read.post
        shown = (post.get("authorDid"), post.get("body"), post.get("parent"), post.get("authorName"))
        if shown != (signed.author_did, signed.body, signed.parent_id, signed.author_name):
            return "the post differs from what its author signed"
        if signed.host_did != address.host_did or signed.topic_id != address.topic_id:
            return "the post was signed for another topic"
        verify_post(read, await node.resolver.public_key(read.kid))
    except DiscussionError as error:
        return error.reason
    except ResolutionError as error:
        return f"the author's key is not available: {error.reason}"
    return VERIFIED


async def send_report(node: Node, address: TopicAddress, post_id: str, reason: str) -> dict[str, Any]:
    """Report a post on another node's topic to that node's owner."""
    body = {"post": clean_id(post_id, "post"), "reason": clean_text(reason, "reason", maximum=MAX_REASON)}
    _, answer = await call_host(
        node, "POST", f"{address.base_url}{PROTOCOL_PATH}/reports", address.host_did, body=body
    )
    return answer


async def wait_for_delivery(node: Node, outgoing_id: str, timeout: float) -> Delivery:
    """The delivery state of an outgoing post once it is sent or failed, or after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout

    def state() -> Delivery:
        with node.db.read() as session:
            return delivery_of(session, outgoing_id)

    while True:
        delivery = await anyio.to_thread.run_sync(state)
        if delivery.state != "pending" or delivery.attempts > 0 or time.monotonic() >= deadline:
            return delivery
        await asyncio.sleep(0.05)
